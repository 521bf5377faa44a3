package dev.steer.examples;

import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.Sampler;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import dev.steer.core.steering.SteeringStepReport;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Generates an image with Learn-to-Steer: the relation classifier's loss against the relation the
 * prompt asks for steers the latent during the first half of denoising. Prints, per steered step,
 * the loss before and after, the classifier's probabilities, iterations and time.
 *
 * <pre>
 * Steer [--model DIR] [--backend pytorch|onnx] [--classifier CHECKPOINT] [--prompt TEXT] [--subject W --relation R --object W]
 *       [--step-size A] [--iterations N] [--pictures DIR] [Generate's options]
 * </pre>
 * Without --subject/--relation/--object the relations are parsed from the prompt. The model defaults
 * to the embedded ShapeWorld model ({@value #EMBEDDED_MODEL}), the classifier to the model folder's
 * {@code classifier} folder, the steering settings to the classifier's recommended ones
 * ({@link SteeringConfig#recommendedFor}); --step-size and --iterations override them.
 */
public final class Steer {
    /** The embedded default model, relative to the repository root. */
    static final String EMBEDDED_MODEL = "models/shapeworld";

    private Steer() {
    }

    /** Entry point. */
    public static void main(String[] argv) throws Exception {
        Set<String> flags = new HashSet<>(Generate.FLAGS);
        flags.addAll(Set.of("--classifier", "--subject", "--relation", "--object", "--step-size", "--iterations", "--pictures"));
        Args a;
        try {
            a = Args.parse(argv, flags).withDefault("--model", EMBEDDED_MODEL);
            a = a.withDefault("--classifier", Path.of(a.get("--model", null)).resolve("classifier").toString());
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("usage: Steer [--model DIR] [--backend pytorch|onnx] [--classifier CHECKPOINT] [--prompt TEXT] [--subject W --relation R --object W]\n"
                    + "             [--step-size A] [--iterations N] [--pictures DIR] [--steps N] [--seed S] [--size WxH] [--out FILE.png]");
            System.exit(2);
            return;
        }
        long t0 = System.nanoTime();
        try (Sampler sd = Generate.open(a, Path.of(a.get("--classifier", null)))) {
            System.out.printf(Locale.ROOT, "loaded %s in %.2fs%n", sd.modelDescription(), (System.nanoTime() - t0) / 1e9);
            // the classifier's steering.json, else the model family's published settings
            SteeringConfig recommended = SteeringConfig.recommendedFor(Path.of(a.get("--classifier", null)), sd.defaults().steering());
            SteeringConfig config = recommended
                    .withStepSize(a.getFloat("--step-size", recommended.stepSize()))
                    .withMaxIterations(a.getInt("--iterations", recommended.maxIterations()));
            SteeringRequest steering = a.has("--subject")
                    ? SteeringRequest.of(RelationTriplet.of(a.get("--subject", null), SpatialRelation.parse(a.get("--relation", "")),
                            a.get("--object", null)))
                    : SteeringRequest.fromPrompt();
            steering = steering.withConfig(config).withListener(Steer::print);
            if (a.has("--pictures")) {
                steering = steering.withPictures(Path.of(a.get("--pictures", null)));
            }
            GenerationResult result = Generate.generate(sd, Generate.request(a, "a photo of a purple square above a red circle",
                    sd.defaults()).optSteering(steering));
            Path out = Path.of(a.get("--out", "steer-output.png"));
            result.save(out);
            System.out.println("steering: " + result.metadata().get("steering_summary"));
            System.out.println("stages: " + result.timings());
            System.out.println("wrote " + out.toAbsolutePath()
                    + (a.has("--pictures") ? " and heatmap pictures in " + Path.of(a.get("--pictures", "")).toAbsolutePath() : ""));
        }
    }

    private static void print(SteeringStepReport r) {
        float[] p = r.probabilities();
        String[] probs = new String[p.length];
        for (int i = 0; i < p.length; i++) {
            probs[i] = String.format(Locale.ROOT, "%.3f", p[i]);
        }
        System.out.printf(Locale.ROOT, "step %2d: loss %.4g -> %.4g in %d iterations, %.2fs, p=%s%s%n", r.stepIndex(), r.lossBefore(),
                r.lossAfter(), r.iterations(), r.time().toNanos() / 1e9, Arrays.toString(probs),
                r.abandoned() == null ? "" : " (stopped: " + r.abandoned() + ")");
    }
}
