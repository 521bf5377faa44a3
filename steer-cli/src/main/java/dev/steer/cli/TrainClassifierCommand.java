package dev.steer.cli;

import dev.steer.pytorch.training.RelationArchitecture;
import dev.steer.pytorch.training.RelationClassifierTrainer;
import dev.steer.pytorch.training.RelationDataset;
import dev.steer.pytorch.training.RelationEvaluation;
import java.nio.file.Path;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code steer train-classifier}: trains a Learn-to-Steer relation classifier on a relation dataset
 * folder and evaluates it on the held-out triplets, with the leakage report.
 */
@Command(name = "train-classifier", header = "Train and evaluate a relation classifier on a relation dataset.",
        description = {"Trains a Learn-to-Steer relation classifier on a relation dataset folder (docs/relation-dataset.md) and "
                + "evaluates it on the held-out triplets, with the leakage report (accuracy on positive-prompt samples minus "
                + "accuracy on negative-prompt samples) and the training-free centroid baseline on the same split.",
                "Prints one line per epoch. The best checkpoint, OUT/best, loads with 'steer steer --classifier OUT/best'. An "
                        + "interrupted run continues from its last finished epoch with --resume and the same options."})
final class TrainClassifierCommand extends BaseCommand {
    @Option(names = "--data", paramLabel = "DIR", required = true, description = "The relation dataset folder.")
    Path data;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output folder (checkpoints, report).")
    Path out;

    @Option(names = "--architecture", paramLabel = "published|small", converter = Converters.Architecture.class,
            defaultValue = "published", description = "Classifier architecture: the published one, or small (for small datasets).")
    RelationArchitecture architecture;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "100", description = "Most epochs.")
    int epochs;

    @Option(names = "--max-steps", paramLabel = "N", defaultValue = "0", description = "Most optimiser steps (0: no limit).")
    long maxSteps;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "64", description = "Batch size.")
    int batch;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "1e-4", description = "Learning rate.")
    double lr;

    @Option(names = "--weight-decay", paramLabel = "X", defaultValue = "0.05", description = "Weight decay.")
    double weightDecay;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the split, the initial weights, the "
            + "shuffling and dropout.")
    long seed;

    @Option(names = "--split", paramLabel = "TRAIN,VALIDATION", split = ",", defaultValue = "0.8,0.1",
            description = "Fractions of the triplets for training and validation; the rest is the test split.")
    double[] split;

    @Option(names = "--plateau-patience", paramLabel = "N", defaultValue = "5", description = "Epochs without improvement before "
            + "the learning rate is halved.")
    int plateauPatience;

    @Option(names = "--early-stopping", paramLabel = "N", defaultValue = "10", description = "Epochs without improvement before "
            + "training stops.")
    int earlyStopping;

    @Option(names = "--threads", paramLabel = "N", description = "LibTorch threads. Default: LibTorch's (-Dai.djl.pytorch.num_threads).")
    Integer threads;

    @Option(names = "--no-negatives", description = "Train and validate on positive prompts only (the reference's ablation; the "
            + "test split keeps the negatives, so the report shows the leakage).")
    boolean noNegatives;

    @Option(names = "--mirror", description = "Mirror training samples left-right and top-bottom with their labels swapped (for "
            + "small datasets).")
    boolean mirror;

    @Option(names = "--resume", description = "Continue an interrupted run from its last finished epoch.")
    boolean resume;

    @Override
    public Integer call() {
        if (split.length != 2) {
            throw new ParameterException(spec.commandLine(), "--split takes TRAIN,VALIDATION fractions, e.g. 0.8,0.1 (the rest is the "
                    + "test split)");
        }
        RelationDataset dataset = RelationDataset.open(ModelOptions.requireFolder(spec, "--data", data));
        out().println(dataset);
        RelationClassifierTrainer.Builder builder = RelationClassifierTrainer.builder(dataset, out)
                .optArchitecture(architecture)
                .optMaxEpochs(epochs)
                .optMaxSteps(maxSteps)
                .optBatchSize(batch)
                .optLearningRate(lr)
                .optWeightDecay(weightDecay)
                .optSeed(seed)
                .optSplit(split[0], split[1])
                .optPlateau(0.5, plateauPatience)
                .optEarlyStoppingPatience(earlyStopping)
                .optDropNegatives(noNegatives)
                .optMirrorAugmentation(mirror)
                .optResume(resume);
        if (threads != null) {
            LibTorchThreads.set(threads);
        }
        ProgressBar bar = LoadProgressBar.counter("epochs", epochs, " epochs");
        builder.optListener(r -> {
            print(r);
            if (bar != null) {
                bar.stepTo(r.epoch());
            }
        });
        RelationClassifierTrainer trainer = builder.build();
        out().printf(Locale.ROOT, "training %s (d_model %d) on %s%s%n", architecture.name().toLowerCase(Locale.ROOT),
                trainer.config().dModel(), data, noNegatives ? ", positive prompts only" : "");
        RelationClassifierTrainer.Result r;
        try {
            r = trainer.train();
        } finally {
            if (bar != null) {
                bar.close();
            }
        }
        out().printf(Locale.ROOT, "stopped after %d epochs, %d steps: %s%n", r.epochs(), r.steps(), r.stopReason());
        out().printf(Locale.ROOT, "best checkpoint: %s (epoch %d, validation loss %.4f)%n", r.bestCheckpoint().toAbsolutePath(),
                r.bestEpoch(), r.bestValidationLoss());
        RelationEvaluation e = r.evaluation();
        if (e == null) {
            out().println("no test triplets: no evaluation report");
            return 0;
        }
        out().printf(Locale.ROOT, "test split: %s%n", e);
        out().println(e.leakageStatement());
        out().printf(Locale.ROOT, "centroid baseline on the same split (no training; the relation of the maps' centres of mass): "
                + "accuracy %.3f%s%n", r.baseline().accuracy(), r.baseline().accuracy() < 0.35
                        ? " - near chance: the maps carry little word-specific geometry" : "");
        out().println("report: " + r.evaluationJson().toAbsolutePath() + " and " + r.evaluationChart().toAbsolutePath());
        return 0;
    }

    private void print(RelationClassifierTrainer.EpochReport r) {
        out().printf(Locale.ROOT, "epoch %3d (step %6d): train loss %.4f, val loss %.4f, val accuracy %.3f, lr %.3g%s, %.1fs%s%n",
                r.epoch(), r.step(), r.trainLoss(), r.validationLoss(), r.validationAccuracy(), r.learningRate(),
                r.nextLearningRate() < r.learningRate() ? String.format(Locale.ROOT, " (next %.3g)", r.nextLearningRate()) : "",
                r.seconds(), r.best() ? "  best" : "");
    }
}
