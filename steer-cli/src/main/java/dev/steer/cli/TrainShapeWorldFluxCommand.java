package dev.steer.cli;

import dev.steer.pytorch.training.FluxShapeWorldTrainer;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code steer train-shapeworld-flux}: trains (or resumes training of) the FLUX-architecture ShapeWorld model. */
@Command(name = "train-shapeworld-flux", header = "Train, or resume training of, the ShapeWorld model on FLUX.1's architecture.",
        description = {"Trains, or resumes training of, the FLUX-architecture ShapeWorld model; the UNet model's autoencoder, CLIP "
                + "encoder and tokenizer (--source) are reused, frozen. Run it again with the same settings to continue from the "
                + "last checkpoint; raise --steps to train longer.", "See models/shapeworld-flux/README.md for the settings the "
                + "committed model ran with."})
final class TrainShapeWorldFluxCommand extends BaseCommand {
    @Option(names = "--work", paramLabel = "DIR", defaultValue = SteerHome.PREFIX + "target/shapeworld-flux-training",
            description = "Where checkpoints and progress are kept (resume reads them).")
    Path work;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = SteerHome.PREFIX + "models/shapeworld-flux",
            description = "The diffusers FLUX folder to write.")
    Path out;

    @Option(names = "--source", paramLabel = "DIR", defaultValue = SteerHome.PREFIX + SteerHome.EMBEDDED_MODEL,
            description = "The UNet ShapeWorld model folder whose vae/, text_encoder/ and tokenizer/ are reused.")
    Path source;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "4000", description = "Training steps in all.")
    int steps;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "Scenes per batch.")
    int batch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "20261203", description = "Seed of everything random.")
    long seed;

    @Option(names = "--lr", paramLabel = "R", defaultValue = "3e-4", description = "Peak learning rate.")
    float lr;

    @Option(names = "--decay-from", paramLabel = "STEP", description = "Anneal: from this step the learning rate falls linearly "
            + "to zero at --steps. Default: constant after warm-up.")
    Integer decayFrom;

    @Option(names = "--grounding", paramLabel = "W", defaultValue = "0", description = "Weight of the grounding loss on the blocks' "
            + "image->text attention; 0 trains on captions alone.")
    float grounding;

    @Option(names = "--hidden", paramLabel = "N", defaultValue = "128", description = "Transformer width (a multiple of 32).")
    int hidden;

    @Option(names = "--double", paramLabel = "N", defaultValue = "2", description = "Double-stream blocks.")
    int doubleBlocks;

    @Option(names = "--single", paramLabel = "N", defaultValue = "2", description = "Single-stream blocks.")
    int singleBlocks;

    @Option(names = "--t5-dim", paramLabel = "N", defaultValue = "64", description = "T5 width (a multiple of 16).")
    int t5Dim;

    @Option(names = "--t5-layers", paramLabel = "N", defaultValue = "2", description = "T5 layers.")
    int t5Layers;

    @Option(names = "--text-length", paramLabel = "N", defaultValue = "32", description = "T5 tokens per caption, padded.")
    int textLength;

    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "250", description = "Steps between checkpoints (each "
            + "also exports the EMA weights).")
    int checkpointEvery;

    @Option(names = "--threads", paramLabel = "N", description = "LibTorch threads. Default: LibTorch's (-Dai.djl.pytorch.num_threads).")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        FluxShapeWorldTrainer.Builder builder = FluxShapeWorldTrainer.builder()
                .setWorkDir(work)
                .setOutput(out)
                .setSource(ModelOptions.requireFolder(spec, "--source", source))
                .optSteps(steps)
                .optBatchSize(batch)
                .optSeed(seed)
                .optLearningRate(lr)
                .optGroundingWeight(grounding)
                .optHidden(hidden)
                .optBlocks(doubleBlocks, singleBlocks)
                .optT5(t5Dim, t5Layers)
                .optTextLength(textLength)
                .optCheckpointEvery(checkpointEvery)
                .optLog(out()::println);
        if (decayFrom != null) {
            builder.optDecayFrom(decayFrom);
        }
        if (threads != null) {
            LibTorchThreads.set(threads);
        }
        LoadProgressBar bar = LoadProgressBar.onTerminal();
        Path model;
        try {
            model = builder.optProgress(bar).build().run();
        } finally {
            if (bar != null) {
                bar.close();
            }
        }
        out().println("model folder: " + model.toAbsolutePath());
        return 0;
    }
}
