package dev.steer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real runs with the embedded model at tiny settings. */
class SteerCliGenerateTest {
    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G'};

    @Test
    void generateWritesAPng(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("generated.png");
        CliRun run = CliRun.of("generate", "--steps", "2", "--guidance", "5", "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("wrote " + out.toAbsolutePath()), run.out());
        assertArrayEquals(PNG, Arrays.copyOf(Files.readAllBytes(out), 4));
    }

    @Test
    void steerPrintsTheLossOfEachSteeredStepAndWritesThePictures(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("steered.png");
        CliRun run = CliRun.of("steer", "--steps", "2", "--guidance", "5", "--iterations", "1", "--out", out.toString(),
                "--pictures", dir.resolve("pictures").toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().matches("(?s).*step  0: loss [0-9.e+-]+ -> [0-9.e+-]+ in 1 iterations.*"), run.out());
        assertTrue(run.out().contains("steering: "), run.out());
        assertArrayEquals(PNG, Arrays.copyOf(Files.readAllBytes(out), 4));
        try (var pictures = Files.list(dir.resolve("pictures"))) {
            assertTrue(pictures.findAny().isPresent());
        }
    }
}
