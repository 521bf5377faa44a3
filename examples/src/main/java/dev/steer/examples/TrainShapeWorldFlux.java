package dev.steer.examples;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.steer.pytorch.training.FluxShapeWorldTrainer;
import java.nio.file.Path;
import java.util.Set;

/**
 * Trains (or resumes training of) the FLUX-architecture ShapeWorld model.
 *
 * <pre>
 * TrainShapeWorldFlux [--work DIR] [--out DIR] [--source DIR] [--steps N] [--batch N] [--seed S] [--lr R] [--grounding W]
 *                     [--hidden N] [--double N] [--single N] [--t5-dim N] [--t5-layers N] [--text-length N]
 *                     [--checkpoint-every N] [--threads N]
 * </pre>
 * Defaults: work folder {@code target/shapeworld-flux-training}, output {@code models/shapeworld-flux},
 * source (autoencoder, CLIP encoder and tokenizer, reused frozen) {@code models/shapeworld}. Run it
 * again with the same settings to continue from the last checkpoint; raise {@code --steps} to train longer.
 */
public final class TrainShapeWorldFlux {
    private TrainShapeWorldFlux() {
    }

    /** Entry point. */
    public static void main(String[] argv) throws Exception {
        Args a = Args.parse(argv, Set.of("--work", "--out", "--source", "--steps", "--batch", "--seed", "--lr", "--grounding", "--hidden",
                "--double", "--single", "--t5-dim", "--t5-layers", "--text-length", "--checkpoint-every", "--threads"));
        FluxShapeWorldTrainer.Builder b = FluxShapeWorldTrainer.builder()
                .setWorkDir(Path.of(a.get("--work", "target/shapeworld-flux-training")))
                .setOutput(Path.of(a.get("--out", "models/shapeworld-flux")))
                .setSource(Path.of(a.get("--source", "models/shapeworld")));
        if (a.has("--steps")) {
            b.optSteps(a.getInt("--steps", 0));
        }
        if (a.has("--batch")) {
            b.optBatchSize(a.getInt("--batch", 32));
        }
        if (a.has("--seed")) {
            b.optSeed(a.getLong("--seed", 0));
        }
        if (a.has("--lr")) {
            b.optLearningRate(a.getFloat("--lr", 3e-4f));
        }
        if (a.has("--grounding")) {
            b.optGroundingWeight(a.getFloat("--grounding", 0f));
        }
        if (a.has("--hidden")) {
            b.optHidden(a.getInt("--hidden", 128));
        }
        if (a.has("--double") || a.has("--single")) {
            b.optBlocks(a.getInt("--double", 2), a.getInt("--single", 2));
        }
        if (a.has("--t5-dim") || a.has("--t5-layers")) {
            b.optT5(a.getInt("--t5-dim", 64), a.getInt("--t5-layers", 2));
        }
        if (a.has("--text-length")) {
            b.optTextLength(a.getInt("--text-length", 256));
        }
        if (a.has("--checkpoint-every")) {
            b.optCheckpointEvery(a.getInt("--checkpoint-every", 250));
        }
        if (a.has("--threads")) {
            Engine.getEngine("PyTorch");
            JniUtils.setNumThreads(a.getInt("--threads", 1));
        }
        System.out.println("model folder: " + b.build().run().toAbsolutePath());
    }
}
