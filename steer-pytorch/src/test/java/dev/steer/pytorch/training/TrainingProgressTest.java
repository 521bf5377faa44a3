package dev.steer.pytorch.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.util.Progress;
import dev.steer.core.testing.Conformance;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ShapeWorld trainers' optProgress: per stage reset(total), start(resumed step), one update per step up to the total, end. */
class TrainingProgressTest {
    @TempDir
    Path tmp;

    /** One reported stage: its name, total and resumed step, the steps updated to, whether it ended. */
    static final class Stage {
        final String name;
        final long total;
        long start = -1;
        final List<Long> updates = new ArrayList<>();
        final List<String> messages = new ArrayList<>();
        boolean ended;

        Stage(String name, long total) {
            this.name = name;
            this.total = total;
        }

        @Override
        public String toString() {
            return name + " " + start + "->" + updates + "/" + total + (ended ? " end" : "");
        }
    }

    /** Records what a trainer reports, stage by stage. */
    static final class Recorder implements Progress {
        final List<Stage> stages = new ArrayList<>();

        private Stage current() {
            assertTrue(!stages.isEmpty() && !stages.get(stages.size() - 1).ended, "a call outside a stage: " + stages);
            return stages.get(stages.size() - 1);
        }

        @Override
        public void reset(String message, long max, String trailingMessage) {
            assertTrue(stages.isEmpty() || stages.get(stages.size() - 1).ended, "a stage did not end: " + stages);
            stages.add(new Stage(message, max));
        }

        @Override
        public void start(long initialProgress) {
            Stage s = current();
            assertEquals(-1, s.start, "started twice");
            s.start = initialProgress;
        }

        @Override
        public void end() {
            current().ended = true;
        }

        @Override
        public void increment(long increment) {
            Stage s = current();
            s.updates.add((s.updates.isEmpty() ? s.start : s.updates.get(s.updates.size() - 1)) + increment);
        }

        @Override
        public void update(long progress, String message) {
            current().updates.add(progress);
            current().messages.add(message);
        }
    }

    /** Asserts that {@code s} is {@code name} over {@code total} steps, resumed at {@code start}, counted one by one to its end. */
    private static void assertStage(Stage s, String name, long total, long start) {
        assertEquals(name, s.name, s.toString());
        assertEquals(total, s.total, s.toString());
        assertEquals(start, s.start, s.toString());
        List<Long> expected = new ArrayList<>();
        for (long i = start + 1; i <= total; i++) {
            expected.add(i);
        }
        assertEquals(expected, s.updates, s.toString());
        assertTrue(s.ended, s.toString());
        assertTrue(s.messages.stream().allMatch(m -> m != null && m.startsWith("mse ")), s.messages.toString());
    }

    @Test
    void shapeWorldTrainerReportsEachStageAndResumesAtItsCheckpoint() throws Exception {
        List<String> log = new ArrayList<>();
        Path work = tmp.resolve("w");
        Path out = tmp.resolve("m");
        Recorder first = new Recorder();
        ShapeWorldTrainer.builder().setWorkDir(work).setOutput(out).setTokenizerSource(Conformance.dir("clip-tokenizer"))
                .optBatchSize(2).optVaeSteps(2).optSteps(2).optCheckpointEvery(2).optLog(log::add).optProgress(first).build().run();
        assertEquals(2, first.stages.size(), first.stages.toString());
        assertStage(first.stages.get(0), "autoencoder", 2, 0);
        assertStage(first.stages.get(1), "UNet and text encoder", 2, 0);

        Recorder resumed = new Recorder();
        ShapeWorldTrainer.builder().setWorkDir(work).setOutput(out).setTokenizerSource(Conformance.dir("clip-tokenizer"))
                .optBatchSize(2).optVaeSteps(2).optSteps(4).optCheckpointEvery(2).optLog(log::add).optProgress(resumed).build().run();
        assertEquals(1, resumed.stages.size(), resumed.stages.toString());
        assertStage(resumed.stages.get(0), "UNet and text encoder", 4, 2);

        Recorder complete = new Recorder();
        ShapeWorldTrainer.builder().setWorkDir(work).setOutput(out).setTokenizerSource(Conformance.dir("clip-tokenizer"))
                .optBatchSize(2).optVaeSteps(2).optSteps(4).optCheckpointEvery(2).optLog(log::add).optProgress(complete).build().run();
        assertEquals(List.of(), complete.stages);
    }

    @Test
    void fluxTrainerReportsItsStepsAndResumesAtItsCheckpoint() throws Exception {
        List<String> log = new ArrayList<>();
        Path source = Conformance.testdata().getParent().resolve("models/shapeworld");
        Path work = tmp.resolve("w");
        Path out = tmp.resolve("m");
        Recorder first = new Recorder();
        flux(source, work, out, 2, log).optProgress(first).build().run();
        assertEquals(1, first.stages.size(), first.stages.toString());
        assertStage(first.stages.get(0), "FLUX transformer and T5", 2, 0);

        Recorder resumed = new Recorder();
        flux(source, work, out, 3, log).optProgress(resumed).build().run();
        assertEquals(1, resumed.stages.size(), resumed.stages.toString());
        assertStage(resumed.stages.get(0), "FLUX transformer and T5", 3, 2);
    }

    private static FluxShapeWorldTrainer.Builder flux(Path source, Path work, Path out, int steps, List<String> log) {
        return FluxShapeWorldTrainer.builder().setWorkDir(work).setOutput(out).setSource(source)
                .optBatchSize(2).optSteps(steps).optCheckpointEvery(2).optHidden(32).optBlocks(1, 1).optT5(16, 1).optTextLength(16)
                .optLog(log::add);
    }
}
