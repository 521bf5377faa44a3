package dev.steer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Wrong input: exit code 2 and one line on standard error naming the problem and pointing to --help, no stack trace. */
class SteerCliErrorTest {
    static Stream<Arguments> wrongInput() {
        return Stream.of(
                Arguments.of("--steps", new String[] {"steer", "--steps", "abc"}),
                Arguments.of("--size", new String[] {"steer", "--size", "7x"}),
                Arguments.of("--size", new String[] {"generate", "--size", "0x64"}),
                Arguments.of("--bogus", new String[] {"generate", "--bogus", "1"}),
                Arguments.of("--model", new String[] {"steer", "--model", "no/such/model"}),
                Arguments.of("--model", new String[] {"shapebench", "--model", "no/such/model"}),
                Arguments.of("--classifier", new String[] {"steer", "--classifier", "no/such/classifier"}),
                Arguments.of("--scheduler", new String[] {"generate", "--scheduler", "warp"}),
                Arguments.of("--relation", new String[] {"steer", "--subject", "square", "--relation", "beside", "--object", "circle"}),
                Arguments.of("--object", new String[] {"steer", "--subject", "square"}),
                Arguments.of("--prompts", new String[] {"shapebench", "--prompts", "1000"}),
                Arguments.of("--out", new String[] {"dataset", "--model", "x"}),
                Arguments.of("--manifest", new String[] {"dataset", "--model", "x", "--out", "y"}),
                Arguments.of("--data", new String[] {"train-classifier", "--data", "no/such/dataset", "--out", "y"}),
                Arguments.of("--split", new String[] {"train-classifier", "--data", "x", "--out", "y", "--split", "0.5"}),
                Arguments.of("--architecture", new String[] {"train-classifier", "--data", "x", "--out", "y", "--architecture", "huge"}),
                Arguments.of("--fit", new String[] {"dataset", "--model", "x", "--out", "y", "--manifest", "m", "--fit", "zoom"}),
                Arguments.of("maybe", new String[] {"dataset", "--model", "x", "--out", "y", "--one-instance-per-class", "maybe"}),
                Arguments.of("--count", new String[] {"render-scenes", "--out", "x", "--count", "many"}),
                Arguments.of("--threads", new String[] {"train-shapeworld-flux", "--threads", "two"}),
                Arguments.of("unwrap", new String[] {"unwrap"}),
                Arguments.of("name a command", new String[] {}));
    }

    @ParameterizedTest
    @MethodSource("wrongInput")
    void oneLineExitCodeTwoNoStackTrace(String named, String[] args) {
        CliRun run = CliRun.of(args);
        assertEquals(SteerCli.USAGE_ERROR, run.exitCode(), run.err());
        assertEquals("", run.out());
        String err = run.err().strip();
        assertFalse(err.contains("\n"), "more than one line:\n" + err);
        assertTrue(err.contains(named), "does not name " + named + ": " + err);
        assertTrue(err.contains("--help"), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), err);
    }

    @Test
    void aMissingEmbeddedModelSaysWhereItWasLookedFor(@TempDir Path empty) {
        String before = System.getProperty(SteerHome.PROPERTY);
        System.setProperty(SteerHome.PROPERTY, empty.toString());
        try {
            CliRun run = CliRun.of("steer", "--steps", "1");
            assertEquals(SteerCli.USAGE_ERROR, run.exitCode());
            String err = run.err().strip();
            assertFalse(err.contains("\n"), err);
            assertTrue(err.contains("embedded model was not found") && err.contains(empty.toString()) && err.contains("--model"), err);
        } finally {
            if (before == null) {
                System.clearProperty(SteerHome.PROPERTY);
            } else {
                System.setProperty(SteerHome.PROPERTY, before);
            }
        }
    }
}
