package dev.steer.examples;

import dev.steer.pytorch.training.ShapeWorldTrainer;
import java.nio.file.Path;
import java.util.Set;

/**
 * Trains (or resumes training of) the embedded ShapeWorld model.
 *
 * <pre>
 * TrainShapeWorld [--work DIR] [--out DIR] [--tokenizer DIR] [--steps N] [--vae-steps N] [--batch N] [--seed S] [--lr R] [--grounding W]
 * </pre>
 * Defaults: work folder {@code target/shapeworld-training}, output {@code models/shapeworld}, the CLIP
 * tokenizer files of {@code testdata/architectures/sd15/tokenizer}. Run it again to continue
 * from the last checkpoint; raise {@code --steps} to train longer.
 */
public final class TrainShapeWorld {
    private TrainShapeWorld() {
    }

    /** Entry point. */
    public static void main(String[] argv) throws Exception {
        Args a = Args.parse(argv, Set.of("--work", "--out", "--tokenizer", "--steps", "--vae-steps", "--batch", "--seed", "--lr", "--grounding"));
        ShapeWorldTrainer.Builder b = ShapeWorldTrainer.builder()
                .setWorkDir(Path.of(a.get("--work", "target/shapeworld-training")))
                .setOutput(Path.of(a.get("--out", "models/shapeworld")))
                .setTokenizerSource(Path.of(a.get("--tokenizer", "testdata/architectures/sd15/tokenizer")));
        if (a.has("--steps")) {
            b.optSteps(a.getInt("--steps", 0));
        }
        if (a.has("--vae-steps")) {
            b.optVaeSteps(a.getInt("--vae-steps", 0));
        }
        if (a.has("--batch")) {
            b.optBatchSize(a.getInt("--batch", 32));
        }
        if (a.has("--seed")) {
            b.optSeed(a.getLong("--seed", 0));
        }
        if (a.has("--grounding")) {
            b.optGroundingWeight(a.getFloat("--grounding", 0f));
        }
        if (a.has("--lr")) {
            b.optLearningRate(a.getFloat("--lr", 3e-4f));
        }
        System.out.println("model folder: " + b.build().run().toAbsolutePath());
    }
}
