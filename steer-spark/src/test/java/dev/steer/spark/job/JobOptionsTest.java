package dev.steer.spark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.spark.ShapeBenchScorer;
import org.junit.jupiter.api.Test;

/** The job's command line: defaults, values, and one clear message per wrong option. */
class JobOptionsTest {
    @Test
    void defaultsAndGivenValues() {
        JobOptions o = JobOptions.parse("--input", "in.csv", "--output", "out", "--steps", "20", "--guidance=5", "--steer", "false",
                "--scorer", "shapebench", "--models-per-executor", "2", "--master", "local[2]");
        assertEquals("embedded:shapeworld", o.model().model());
        assertEquals("pytorch", o.model().backend());
        assertEquals(2, o.model().modelsPerExecutor());
        assertEquals(20, o.settings().steps());
        assertEquals(5f, o.settings().guidance());
        assertEquals(false, o.settings().steer());
        assertNull(o.settings().width());
        assertEquals(1000, o.batchRows());
        assertEquals("local[2]", o.master());
        assertTrue(o.newScorer() instanceof ShapeBenchScorer);
    }

    @Test
    void wrongOptionsAreRefusedNamingTheOption() {
        assertMessage("--input: required", "--output", "out");
        assertMessage("unknown option '--stepz'", "--input", "a", "--output", "b", "--stepz", "3");
        assertMessage("--steps: must be in [1, 1000], got 0", "--input", "a", "--output", "b", "--steps", "0");
        assertMessage("--guidance: not a finite number: 'NaN'", "--input", "a", "--output", "b", "--guidance", "NaN");
        assertMessage("--steer: true or false, got 'yes'", "--input", "a", "--output", "b", "--steer", "yes");
        assertMessage("--format: csv, json or parquet, got 'xml'", "--input", "a", "--output", "b", "--format", "xml");
        assertMessage("--steps: given twice", "--input", "a", "--output", "b", "--steps", "2", "--steps", "3");
        assertMessage("--batch-rows: needs a value", "--input", "a", "--output", "b", "--batch-rows");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JobOptions.parse("--input", "a", "--output", "b", "--scorer", "no.such.Scorer"));
        assertTrue(e.getMessage().startsWith("--scorer: "), e.getMessage());
    }

    private static void assertMessage(String message, String... args) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> JobOptions.parse(args)).getMessage());
    }
}
