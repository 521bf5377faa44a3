package dev.steer.core.steering;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.model.ModelConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SteeringConfigTest {
    @TempDir
    Path dir;

    @Test
    void recommendedSettingsBesideTheCheckpointOverrideTheDefaultsForTheFolderAndTheFile() throws Exception {
        Files.writeString(dir.resolve("steering.json"), "{\"step_size\": 0.3, \"max_iterations\": 5, \"comment\": \"tuned on ShapeBench\"}");
        Path checkpoint = Files.writeString(dir.resolve("classifier.safetensors"), "");
        SteeringConfig expected = SteeringConfig.DEFAULTS.withStepSize(0.3f).withMaxIterations(5);
        assertEquals(expected, SteeringConfig.recommendedFor(dir));
        assertEquals(expected, SteeringConfig.recommendedFor(checkpoint));
    }

    @Test
    void recommendedSettingsCarryTheStoppingStepAndNoiseRules() throws Exception {
        Files.writeString(dir.resolve("steering.json"), "{\"margin\": 0.4, \"noise_candidates\": 6, \"normalized_steps\": true, "
                + "\"backtracking\": true, \"final_evaluation\": false}");
        SteeringConfig c = SteeringConfig.recommendedFor(dir);
        assertEquals(SteeringConfig.DEFAULTS.withMargin(0.4).withNoiseCandidates(6).withNormalizedSteps(true).withBacktracking(true)
                .withFinalEvaluation(false), c);
        Files.writeString(dir.resolve("steering.json"), "{\"noise_candidates\": 0}");
        ModelConfigException none = assertThrows(ModelConfigException.class, () -> SteeringConfig.recommendedFor(dir));
        assertTrue(none.getMessage().contains("noise candidates"), none.getMessage());
        Files.writeString(dir.resolve("steering.json"), "{\"margin\": 1.5}");
        assertThrows(ModelConfigException.class, () -> SteeringConfig.recommendedFor(dir));
    }

    @Test
    void aStepIsSatisfiedByItsLossTargetOrByTheAskedClassLeadingByTheMargin() {
        SteeringConfig c = SteeringConfig.REFERENCE.withMargin(0.3);
        float[] p = {0.6f, 0.25f, 0.15f};
        assertTrue(c.isSatisfied(0, 0.51f, p, 0), "0.6 - 0.25 >= 0.3");
        assertTrue(!c.isSatisfied(0, 1.39f, p, 1), "0.25 trails");
        assertTrue(!SteeringConfig.REFERENCE.isSatisfied(0, 0.51f, p, 0), "no margin: only the 1e-5 target");
        assertTrue(SteeringConfig.REFERENCE.isSatisfied(0, 1e-6f, p, -1), "the loss target needs no class");
    }

    @Test
    void withoutRecommendedSettingsTheReferenceDefaultsApply() {
        assertEquals(SteeringConfig.DEFAULTS, SteeringConfig.recommendedFor(dir));
    }

    @Test
    void refusesUnknownKeysAndInvalidSettingsNamingTheFile() throws Exception {
        Files.writeString(dir.resolve("steering.json"), "{\"stepsize\": 0.3}");
        ModelConfigException typo = assertThrows(ModelConfigException.class, () -> SteeringConfig.recommendedFor(dir));
        assertTrue(typo.getMessage().contains("stepsize") && typo.getMessage().contains("steering.json"), typo.getMessage());
        Files.writeString(dir.resolve("steering.json"), "{\"step_size\": -1}");
        ModelConfigException negative = assertThrows(ModelConfigException.class, () -> SteeringConfig.recommendedFor(dir));
        assertTrue(negative.getMessage().contains("step size"), negative.getMessage());
        Files.writeString(dir.resolve("steering.json"), "[1, 2]");
        assertThrows(ModelConfigException.class, () -> SteeringConfig.recommendedFor(dir));
    }

    @Test
    void aClassifierPathThatDoesNotExistIsAnErrorNotTheDefaults() {
        Path missing = dir.resolve("no-such-classifier.pth");
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> SteeringConfig.recommendedFor(missing));
        assertTrue(e.getMessage().contains("no-such-classifier.pth"), e.getMessage());
    }

    @Test
    void aBackendsSectionOverridesTheTopLevelOnThatBackendOnly() throws Exception {
        Files.writeString(dir.resolve("steering.json"), "{\"step_size\": 0.7, \"margin\": 0.5, "
                + "\"onnx\": {\"step_size\": 0.2, \"max_iterations\": 3, \"gradient_budget\": 16, \"gradient_grid\": 4}}");
        SteeringConfig onnx = SteeringConfig.recommendedFor(dir, SteeringConfig.DEFAULTS, "onnx");
        assertEquals(0.2f, onnx.stepSize());
        assertEquals(3, onnx.maxIterations());
        assertEquals(0.5, onnx.margin());
        SteeringConfig torch = SteeringConfig.recommendedFor(dir, SteeringConfig.DEFAULTS, "pytorch");
        assertEquals(0.7f, torch.stepSize());
        assertEquals(SteeringConfig.DEFAULTS.maxIterations(), torch.maxIterations());
        assertEquals(torch, SteeringConfig.recommendedFor(dir));
    }

    @Test
    void refusesUnknownKeysInABackendsSectionAndEstimatorKeysOutsideOnnx() throws Exception {
        Files.writeString(dir.resolve("steering.json"), "{\"onnx\": {\"gradient_bugdet\": 16}}");
        ModelConfigException typo = assertThrows(ModelConfigException.class, () -> SteeringConfig.recommendedFor(dir, SteeringConfig.DEFAULTS, "pytorch"));
        assertTrue(typo.getMessage().contains("gradient_bugdet") && typo.getMessage().contains("onnx"), typo.getMessage());
        Files.writeString(dir.resolve("steering.json"), "{\"pytorch\": {\"gradient_budget\": 16}}");
        assertThrows(ModelConfigException.class, () -> SteeringConfig.recommendedFor(dir, SteeringConfig.DEFAULTS, "pytorch"));
        Files.writeString(dir.resolve("steering.json"), "{\"tensorrt\": {\"step_size\": 1}}");
        assertThrows(ModelConfigException.class, () -> SteeringConfig.recommendedFor(dir));
        Files.writeString(dir.resolve("steering.json"), "{\"onnx\": {\"step_size\": -1}}");
        ModelConfigException invalid = assertThrows(ModelConfigException.class,
                () -> SteeringConfig.recommendedFor(dir, SteeringConfig.DEFAULTS, "onnx"));
        assertTrue(invalid.getMessage().contains("steering.json"), invalid.getMessage());
    }
}
