package dev.steer.pytorch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.util.Progress;
import dev.steer.pytorch.testing.TinyModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The builders' optProgress: reset with the weights' bytes, one increment per tensor, end once. */
class LoadProgressTest {
    @TempDir
    Path tmp;

    /** Records what the builder reports. */
    static final class Recorder implements Progress {
        final List<String> calls = new ArrayList<>();
        long max;
        long done;

        @Override
        public void reset(String message, long max, String trailingMessage) {
            calls.add("reset");
            this.max = max;
        }

        @Override
        public void start(long initialProgress) {
            calls.add("start");
            done = initialProgress;
        }

        @Override
        public void end() {
            calls.add("end");
        }

        @Override
        public void increment(long increment) {
            done += increment;
        }

        @Override
        public void update(long progress, String message) {
            done = progress;
        }
    }

    private static long safetensorsBytes(Path folder) throws IOException {
        try (Stream<Path> files = Files.walk(folder)) {
            return files.filter(f -> f.toString().endsWith(".safetensors")).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    @Test
    void stableDiffusionReportsEveryTensorsBytes() throws Exception {
        Path folder = TinyModels.folder(tmp.resolve("tiny"));
        Recorder r = new Recorder();
        try (StableDiffusion sd = StableDiffusion.builder().setModelFolder(folder).optProgress(r).build()) {
            assertEquals(List.of("reset", "start", "end"), r.calls);
            assertEquals(safetensorsBytes(folder), r.max);
            assertTrue(r.done > 0 && r.done <= r.max, r.done + " of " + r.max);
        }
    }

    @Test
    void fluxReportsEveryTensorsBytes() throws Exception {
        Path folder = TinyModels.fluxFolder(tmp.resolve("flux"), false);
        Recorder r = new Recorder();
        try (FluxPipeline flux = FluxPipeline.builder().setModelFolder(folder).optProgress(r).build()) {
            assertEquals(List.of("reset", "start", "end"), r.calls);
            assertEquals(safetensorsBytes(folder), r.max);
            assertTrue(r.done > 0 && r.done <= r.max, r.done + " of " + r.max);
        }
    }

    @Test
    void randomWeightsReportTheirFloat32Bytes() throws Exception {
        Path folder = TinyModels.folder(tmp.resolve("tiny"));
        Recorder r = new Recorder();
        try (StableDiffusion sd = StableDiffusion.builder().setModelFolder(folder).optRandomWeights(3).optProgress(r).build()) {
            assertEquals(List.of("reset", "start", "end"), r.calls);
            assertEquals(r.max, r.done);
        }
    }
}
