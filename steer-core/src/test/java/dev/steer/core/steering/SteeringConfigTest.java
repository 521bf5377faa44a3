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
}
