package dev.steer.pytorch.steering;

import static dev.steer.core.testing.Conformance.assertClose;
import static dev.steer.core.testing.Conformance.assertRelL2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.steering.GradientSteerer;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringStepReport;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.pytorch.clip.ClipTextModel;
import dev.steer.pytorch.relation.PublishedRelationClassifier;
import dev.steer.pytorch.testing.TinyModels;
import dev.steer.pytorch.unet.UNet2DConditionModel;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TorchSteeringObjectiveTest {
    private static NDManager manager;
    private static UNet2DConditionModel unet;
    private static ClipTextModel text;
    private static PublishedRelationClassifier classifier;
    private static SafetensorsFile g;

    @BeforeAll
    static void load() {
        manager = NDManager.newBaseManager();
        unet = TinyModels.unet(manager);
        text = TinyModels.textEncoder(manager);
        classifier = PublishedRelationClassifier.load(Conformance.dir("classifier-sd2-reference").resolve("classifier.pth"), manager);
        g = Conformance.golden("pipeline-tiny", "steer_step_golden.safetensors");
    }

    @AfterAll
    static void close() {
        g.close();
        classifier.close();
        manager.close();
    }

    private static int[] ints(long[] v) {
        return Arrays.stream(v).mapToInt(Math::toIntExact).toArray();
    }

    private static TorchSteeringObjective objective(NDManager scope, RelationTriplet triplet) {
        NDArray cond = text.forward(scope.create(g.readLongs("input.cond_ids"), new Shape(1, 77)));
        TokenBinding binding = TokenBinding.ofPositions(triplet, ints(g.readLongs("input.subject_token_indices")),
                ints(g.readLongs("input.object_token_indices")));
        return new TorchSteeringObjective(unet, classifier, cond, g.readLongs("input.timestep")[0],
                (int) g.readLongs("input.classifier_timestep_index")[0], 1f, new Shape(1, 4, 16, 16), Map.of(triplet, binding));
    }

    @Test
    void reproducesReferenceSteeringUpdate() {
        assertEquals("to the left of", classifier.classNames().get((int) g.readLongs("input.target_relation")[0]));
        RelationTriplet triplet = RelationTriplet.of("subject", SpatialRelation.LEFT_OF, "object");
        try (NDManager scope = manager.newSubManager()) {
            TorchSteeringObjective.Detailed d = objective(scope, triplet).evaluateDetailed(g.readFloats("input.latents"), triplet, true);
            assertClose("steer output.maps", g.readFloats("output.maps"), d.maps(), 1e-4);
            assertClose("steer output.logits", g.readFloats("output.logits"), d.logits(), 1e-4);
            assertClose("steer output.loss", g.readFloats("output.loss"), new float[] {d.evaluation().loss()}, 1e-4);
            assertRelL2("steer output.grad", g.readFloats("output.grad"), d.evaluation().gradient(), 1e-3);
            float alpha = g.readFloats("input.step_size")[0];
            float[] z = g.readFloats("input.latents");
            float[] grad = d.evaluation().gradient();
            for (int i = 0; i < z.length; i++) {
                z[i] -= alpha * grad[i];
            }
            assertClose("steer output.latents", g.readFloats("output.latents"), z, 1e-4);
        }
    }

    @Test
    void steererLowersTheLossAndLeavesNoArraysBehind() {
        RelationTriplet triplet = RelationTriplet.of("subject", SpatialRelation.LEFT_OF, "object");
        BaseNDManager weights = (BaseNDManager) manager;
        try (NDManager scope = manager.newSubManager()) {
            TorchSteeringObjective objective = objective(scope, triplet);
            int before = ((BaseNDManager) scope).getManagedArrays().size();
            float[] z = g.readFloats("input.latents");
            SteeringStepReport r = new GradientSteerer(SteeringConfig.DEFAULTS.withMaxIterations(4)
                    .withStepSize(g.readFloats("input.step_size")[0]), List.of(triplet), null).refine(objective, 3, 50, z);
            assertTrue(r.lossAfter() < r.lossBefore(), r.lossBefore() + " -> " + r.lossAfter());
            assertEquals(5, r.probabilities().length);
            assertEquals(before, ((BaseNDManager) scope).getManagedArrays().size(), "arrays left after evaluations");
        }
        assertEquals(0, weights.getManagedArrays().stream().filter(a -> a.hasGradient()).count(), "weights recorded gradients");
    }
}
