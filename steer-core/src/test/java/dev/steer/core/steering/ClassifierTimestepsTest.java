package dev.steer.core.steering;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.steer.core.relation.RelationClassifierConfig;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The step -> classifier timestep index rule, per classifier (training timesteps and number of indices). */
class ClassifierTimestepsTest {
    private static final int[] SCHNELL = {1, 3};

    @Test
    void schnellClassifierMapsFourStepsThroughOneAndThree() {
        assertEquals(1, ClassifierTimesteps.indexFor(0, 4, SCHNELL, 4));
        assertEquals(1, ClassifierTimesteps.indexFor(1, 4, SCHNELL, 4));
        assertEquals(3, ClassifierTimesteps.indexFor(2, 4, SCHNELL, 4));
        assertEquals(3, ClassifierTimesteps.indexFor(3, 4, SCHNELL, 4));
        // an 8-step schedule is scaled to the 4 indices first: step 2 of 8 is index 1, step 5 of 8 is 2.5 -> 3
        assertEquals(1, ClassifierTimesteps.indexFor(2, 8, SCHNELL, 4));
        assertEquals(3, ClassifierTimesteps.indexFor(5, 8, SCHNELL, 4));
    }

    @Test
    void devClassifierUsesTheRawStepOfAFiftyStepSchedule() {
        assertEquals(5, ClassifierTimesteps.indexFor(3, 50, ClassifierTimesteps.TRAINED, 50));
        assertEquals(10, ClassifierTimesteps.indexFor(6, 50, ClassifierTimesteps.TRAINED, 50));
        assertEquals(49, ClassifierTimesteps.indexFor(26, 50, ClassifierTimesteps.TRAINED, 50));
    }

    @Test
    void twoArgumentFormIsThePublishedSdMappingForEveryScheduleLength() {
        for (int total : new int[] {1, 4, 10, 25, 28, 50, 100}) {
            for (int step = 0; step < total; step++) {
                int expected = ClassifierTimesteps.indexFor(step, total, ClassifierTimesteps.TRAINED, 50);
                assertEquals(expected, ClassifierTimesteps.indexFor(step, total), "step " + step + " of " + total);
                // the rule as it stood before training timesteps were per classifier
                int at50 = total == 50 ? step : (int) Math.round(step * 50.0 / total);
                int old = 49;
                for (int t : ClassifierTimesteps.TRAINED) {
                    if (at50 <= t) {
                        old = t;
                        break;
                    }
                }
                assertEquals(old, expected, "unchanged SD mapping, step " + step + " of " + total);
            }
        }
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ClassifierTimesteps.indexFor(4, 4, SCHNELL, 4));
        assertThrows(IllegalArgumentException.class, () -> ClassifierTimesteps.indexFor(-1, 4, SCHNELL, 4));
        assertThrows(IllegalArgumentException.class, () -> ClassifierTimesteps.indexFor(0, 4, new int[0], 4));
        assertThrows(IllegalArgumentException.class, () -> ClassifierTimesteps.indexFor(0, 4, new int[] {3, 1}, 4));
        assertThrows(IllegalArgumentException.class, () -> ClassifierTimesteps.indexFor(0, 4, new int[] {1, 4}, 4));
        assertThrows(IllegalArgumentException.class, () -> ClassifierTimesteps.indexFor(0, 4, SCHNELL, 0));
    }

    /** The flux-steer-step goldens' classifier_timestep_index from the classifiers' own configs. */
    @ParameterizedTest
    @CsvSource({"golden.safetensors, config.json, 4", "golden_dev.safetensors, classifier_dev_config.json, 50"})
    void fluxSteerStepIndexFollowsTheClassifierConfig(String golden, String config, int scheduleSteps) {
        RelationClassifierConfig c = RelationClassifierConfig.load(Conformance.dir("flux-steer-step").resolve(config));
        try (SafetensorsFile g = Conformance.golden("flux-steer-step", golden)) {
            int step = (int) g.readLongs("input.step_index")[0];
            long expected = g.readLongs("input.classifier_timestep_index")[0];
            assertEquals(expected, ClassifierTimesteps.indexFor(step, scheduleSteps, c.trainedTimestepArray(), c.numTimesteps()),
                    golden + ": step " + step + " of " + scheduleSteps);
        }
    }
}
