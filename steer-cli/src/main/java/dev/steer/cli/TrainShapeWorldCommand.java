package dev.steer.cli;

import dev.steer.pytorch.training.ShapeWorldTrainer;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code steer train-shapeworld}: trains (or resumes training of) the embedded ShapeWorld model. */
@Command(name = "train-shapeworld", header = "Train, or resume training of, the embedded ShapeWorld model (UNet).",
        description = {"Trains, or resumes training of, the embedded ShapeWorld model (a UNet text-to-image model of coloured "
                + "shapes): the autoencoder, then the UNet and text encoder. Run it again to continue from the last checkpoint; "
                + "raise --steps to train longer.", "The defaults are the embedded model's settings; it ran --steps 6500, then "
                + "--steps 9500 --grounding 0.1 (models/shapeworld/README.md)."})
final class TrainShapeWorldCommand extends BaseCommand {
    @Option(names = "--work", paramLabel = "DIR", defaultValue = SteerHome.PREFIX + "target/shapeworld-training",
            description = "Where checkpoints and progress are kept (resume reads them).")
    Path work;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = SteerHome.PREFIX + SteerHome.EMBEDDED_MODEL,
            description = "The diffusers model folder to write.")
    Path out;

    @Option(names = "--tokenizer", paramLabel = "DIR", defaultValue = SteerHome.PREFIX + "testdata/architectures/sd15/tokenizer",
            description = "A folder with the CLIP vocab.json and merges.txt to ship with the model.")
    Path tokenizer;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "4000", description = "UNet and text encoder training steps in all.")
    int steps;

    @Option(names = "--vae-steps", paramLabel = "N", defaultValue = "400", description = "Autoencoder training steps.")
    int vaeSteps;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "Scenes per batch.")
    int batch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "20261128", description = "Seed of everything random.")
    long seed;

    @Option(names = "--lr", paramLabel = "R", defaultValue = "3e-4", description = "Peak learning rate of the UNet stage (the "
            + "autoencoder uses 3x).")
    float lr;

    @Option(names = "--grounding", paramLabel = "W", defaultValue = "0", description = "Weight of the token grounding loss (colour "
            + "and shape words attend inside their object's box); 0 trains on captions alone.")
    float grounding;

    @Override
    public Integer call() throws Exception {
        LoadProgressBar bar = LoadProgressBar.onTerminal(); // a bar per stage, created by its first report
        ShapeWorldTrainer trainer = ShapeWorldTrainer.builder()
                .setWorkDir(work)
                .setOutput(out)
                .setTokenizerSource(ModelOptions.requireFolder(spec, "--tokenizer", tokenizer))
                .optSteps(steps)
                .optVaeSteps(vaeSteps)
                .optBatchSize(batch)
                .optSeed(seed)
                .optLearningRate(lr)
                .optGroundingWeight(grounding)
                .optLog(out()::println)
                .optProgress(bar)
                .build();
        Path model;
        try {
            model = trainer.run();
        } finally {
            if (bar != null) {
                bar.close();
            }
        }
        out().println("model folder: " + model.toAbsolutePath());
        return 0;
    }
}
