package dev.steer.onnx.steering;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.steering.GradientSteerer;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringStepReport;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.onnx.FloatTensor;
import dev.steer.onnx.OnnxRelationClassifier;
import dev.steer.onnx.OnnxTextEncoder;
import dev.steer.onnx.OnnxUNet;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Forward-only steering on ONNX Runtime against steer_step_golden: the maps, logits and loss of the
 * reference, and the estimated gradient against the reference's exact gradient.
 */
class OnnxSteeringObjectiveTest {
    private static final RelationTriplet TRIPLET = RelationTriplet.of("subject", SpatialRelation.LEFT_OF, "object");

    private static OnnxUNet unet;
    private static OnnxRelationClassifier classifier;
    private static FloatTensor cond;
    private static SafetensorsFile g;
    private static float[] exactGrad;
    private static float[] latents;

    @BeforeAll
    static void load() {
        unet = OnnxUNet.load(Conformance.dir("unet-sd1-tiny").resolve("onnx/unet/model.onnx"));
        classifier = OnnxRelationClassifier.load(Conformance.dir("classifier-sd2-reference").resolve("classifier.pth"));
        g = Conformance.golden("pipeline-tiny", "steer_step_golden.safetensors");
        try (OnnxTextEncoder text = OnnxTextEncoder.load(Conformance.dir("clip-sd1-tiny").resolve("onnx/text_encoder/model.onnx"))) {
            cond = text.encode(g.readLongs("input.cond_ids"));
        }
        exactGrad = g.readFloats("output.grad");
        latents = g.readFloats("input.latents");
    }

    @AfterAll
    static void close() {
        g.close();
        classifier.close();
        unet.close();
    }

    private static int[] ints(long[] v) {
        return Arrays.stream(v).mapToInt(Math::toIntExact).toArray();
    }

    static OnnxSteeringObjective objective(GradientEstimator estimator, long seed) {
        TokenBinding binding = TokenBinding.ofPositions(TRIPLET, ints(g.readLongs("input.subject_token_indices")),
                ints(g.readLongs("input.object_token_indices")));
        return new OnnxSteeringObjective(unet, classifier, cond, g.readLongs("input.timestep")[0],
                (int) g.readLongs("input.classifier_timestep_index")[0], 1f, new int[] {4, 16, 16}, Map.of(TRIPLET, binding),
                estimator, seed);
    }

    static double cosine(float[] a, float[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    @Test
    void reproducesReferenceMapsLogitsAndLoss() {
        assertEquals("to the left of", classifier.classNames().get((int) g.readLongs("input.target_relation")[0]));
        OnnxSteeringObjective.Detailed d = objective(GradientEstimator.WHOLE_LATENT.withBudget(1), 0).evaluateDetailed(latents, TRIPLET);
        assertClose("onnx steer output.maps", g.readFloats("output.maps"), d.maps(), 1e-4);
        assertClose("onnx steer output.logits", g.readFloats("output.logits"), d.logits(), 1e-4);
        assertClose("onnx steer output.loss", g.readFloats("output.loss"), new float[] {d.evaluation().loss()}, 1e-4);
        OnnxSteeringObjective plain = objective(GradientEstimator.WHOLE_LATENT, 0);
        assertClose("onnx steer loss alone", g.readFloats("output.loss"), new float[] {plain.lossOnly(latents, TRIPLET).loss()}, 1e-4);
        assertEquals(1, plain.modelCalls());
    }

    /**
     * The central difference along one direction against the exact directional derivative d . grad,
     * as a function of the perturbation size: the relative error is smallest in a band around the
     * default relative step; smaller steps drown in float32 rounding, larger ones in curvature.
     */
    @Test
    void perturbationSizeBalancesRoundingAgainstCurvature() {
        double[] steps = {1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 5e-2, 1e-1, 2e-1, 3e-1};
        System.out.println("relative step -> relative error of the central difference (8 Gaussian directions)");
        double atDefault = Double.NaN;
        double smallest = Double.NaN;
        double largest = Double.NaN;
        for (double step : steps) {
            GradientEstimator est = new GradientEstimator(8, GradientEstimator.Directions.GAUSSIAN, step, 0, 17);
            OnnxSteeringObjective.Detailed d = objective(est, 17).evaluateDetailed(latents, TRIPLET);
            float[][] dirs = est.draw(latents.length, new Random(17));
            double num = 0;
            double den = 0;
            for (int i = 0; i < dirs.length; i++) {
                double exact = dot(dirs[i], exactGrad);
                num += (d.derivatives()[i] - exact) * (d.derivatives()[i] - exact);
                den += exact * exact;
            }
            double rel = Math.sqrt(num / den);
            System.out.printf(Locale.ROOT, "  %.0e -> %.4f%n", step, rel);
            if (step == GradientEstimator.DEFAULT_RELATIVE_STEP) {
                atDefault = rel;
            }
            smallest = Double.isNaN(smallest) ? rel : smallest;
            largest = rel;
        }
        assertTrue(atDefault < 0.1, "relative error at the default step " + atDefault);
        assertTrue(smallest > 3 * atDefault && largest > atDefault, "rounding at 1e-4 (" + smallest + ") and curvature at 3e-1 ("
                + largest + ") should both do worse than the default step (" + atDefault + ")");
    }


    /**
     * The estimate's cosine with the reference's exact gradient grows with the budget, as
     * sqrt(n / D) predicts for orthogonalised directions (D = 1024 here); averaged over 3 seeds.
     */
    @Test
    void cosineWithTheExactGradientGrowsWithTheBudget() {
        int[] budgets = {4, 16, 64, 256};
        int seeds = 3;
        double[] mean = new double[budgets.length];
        System.out.println("budget -> mean cosine(estimate, exact gradient) over " + seeds + " seeds, orthogonal directions, "
                + "relative step " + GradientEstimator.DEFAULT_RELATIVE_STEP + " (sqrt(n/D) for reference)");
        for (int b = 0; b < budgets.length; b++) {
            StringBuilder each = new StringBuilder();
            for (int seed = 0; seed < seeds; seed++) {
                GradientEstimator est = GradientEstimator.WHOLE_LATENT.withBudget(budgets[b]).withSeed(seed);
                OnnxSteeringObjective objective = objective(est, seed);
                float[] estimate = objective.evaluate(latents, TRIPLET).gradient();
                assertEquals(1, objective.modelCalls(), "all " + est.latentsPerEvaluation() + " latents in one UNet call");
                double c = cosine(estimate, exactGrad);
                each.append(String.format(Locale.ROOT, " %.3f", c));
                mean[b] += c / seeds;
            }
            System.out.printf(Locale.ROOT, "  %4d -> %.3f   (sqrt(n/D) = %.3f; seeds:%s)%n", budgets[b], mean[b],
                    Math.sqrt(budgets[b] / (double) latents.length), each);
        }
        for (int b = 1; b < budgets.length; b++) {
            assertTrue(mean[b] > mean[b - 1] + 0.03, "mean cosine should grow with the budget: " + Arrays.toString(mean));
        }
        assertTrue(mean[0] > 0, "even 4 directions point downhill on average: " + mean[0]);
        assertTrue(mean[budgets.length - 1] > 0.4, "at 256 directions the cosine should reach 0.4: " + mean[budgets.length - 1]);
    }

    /**
     * The core GradientSteerer, unchanged, lowers the loss with the estimated gradient. The fixture's
     * gradient is tiny (|grad| ~ 1e-4: random weights), so the step size is scaled up to move the
     * loss well above float32 noise; one exact-gradient step of the same size is shown beside it.
     */
    @Test
    void gradientSteererLowersTheLossWithTheEstimate() {
        float alpha = 5000f;
        OnnxSteeringObjective objective = objective(GradientEstimator.WHOLE_LATENT.withBudget(64), 7);
        float[] z = latents.clone();
        SteeringStepReport r = new GradientSteerer(SteeringConfig.DEFAULTS.withMaxIterations(4).withStepSize(alpha), List.of(TRIPLET),
                null).refine(objective, 3, 50, z);
        float[] exactStep = latents.clone();
        for (int i = 0; i < exactStep.length; i++) {
            exactStep[i] -= alpha * exactGrad[i];
        }
        float exactAfter = objective(GradientEstimator.WHOLE_LATENT, 0).lossOnly(exactStep, TRIPLET).loss();
        System.out.printf(Locale.ROOT, "steering with the estimate (budget 64, alpha %.0f): loss %.6f -> %.6f after %d iterations; "
                + "one exact-gradient step: %.6f%n", alpha, r.lossBefore(), r.lossAfter(), r.iterations(), exactAfter);
        assertEquals(4, r.iterations());
        assertEquals(5, r.probabilities().length);
        assertTrue(r.abandoned() == null, r.abandoned());
        assertTrue(r.lossAfter() < r.lossBefore() - 1e-5, r.lossBefore() + " -> " + r.lossAfter());
        // each iteration reads the loss alone (one latent), then estimates (one batched call of 2 x 64 + 1 latents); then the final evaluation
        assertEquals(9, objective.modelCalls(), "a loss read and an estimate per update, and the final evaluation");
        assertEquals(4 * (1 + 129) + 1, objective.latentEvaluations());
    }
}
