package dev.steer.examples;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.steer.pytorch.training.RelationArchitecture;
import dev.steer.pytorch.training.RelationClassifierTrainer;
import dev.steer.pytorch.training.RelationDataset;
import dev.steer.pytorch.training.RelationDatasetException;
import dev.steer.pytorch.training.RelationEvaluation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Trains a Learn-to-Steer relation classifier on a relation dataset folder (see
 * {@code docs/relation-dataset.md}) and evaluates it on the held-out triplets, with the leakage
 * report. Prints one line per epoch (train loss, validation loss and accuracy, learning rate) and
 * the report's paths. The best checkpoint ({@code OUT/best}) loads straight into
 * {@code Steer --classifier OUT/best}.
 *
 * <pre>
 * TrainRelationClassifier --data DIR --out DIR [--architecture published|small] [--epochs N] [--max-steps N]
 *       [--batch N] [--lr X] [--weight-decay X] [--seed S] [--split TRAIN,VALIDATION] [--plateau-patience N]
 *       [--early-stopping N] [--threads N] [--no-negatives] [--mirror] [--resume]
 * </pre>
 * {@code --no-negatives} trains and validates on positive prompts only (the reference's ablation;
 * the test split keeps the negatives, so the report shows the leakage). {@code --mirror} mirrors
 * training samples left-right and top-bottom with their labels swapped. An interrupted run continues
 * from its last finished epoch with {@code --resume} and the same options.
 */
public final class TrainRelationClassifier {
    private static final Set<String> FLAGS = Set.of("--data", "--out", "--architecture", "--epochs", "--max-steps", "--batch", "--lr",
            "--weight-decay", "--seed", "--split", "--plateau-patience", "--early-stopping", "--threads");
    private static final String USAGE = "usage: TrainRelationClassifier --data DIR --out DIR [--architecture published|small] [--epochs N]\n"
            + "       [--max-steps N] [--batch N] [--lr X] [--weight-decay X] [--seed S] [--split TRAIN,VALIDATION]\n"
            + "       [--plateau-patience N] [--early-stopping N] [--threads N] [--no-negatives] [--mirror] [--resume]";

    private TrainRelationClassifier() {
    }

    /** Entry point. */
    public static void main(String[] argv) {
        List<String> rest = new ArrayList<>(List.of(argv));
        boolean noNegatives = rest.remove("--no-negatives");
        boolean resume = rest.remove("--resume");
        boolean mirror = rest.remove("--mirror");
        Args a;
        RelationClassifierTrainer.Builder builder;
        try {
            a = Args.parse(rest.toArray(String[]::new), FLAGS);
            if (!a.has("--data") || !a.has("--out")) {
                throw new IllegalArgumentException("--data and --out are required");
            }
            RelationDataset dataset = RelationDataset.open(Path.of(a.get("--data", null)));
            System.out.println(dataset);
            builder = RelationClassifierTrainer.builder(dataset, Path.of(a.get("--out", null)))
                    .optArchitecture(RelationArchitecture.parse(a.get("--architecture", "published")))
                    .optMaxEpochs(a.getInt("--epochs", 100))
                    .optMaxSteps(a.getLong("--max-steps", 0))
                    .optBatchSize(a.getInt("--batch", 64))
                    .optLearningRate(Double.parseDouble(a.get("--lr", "1e-4")))
                    .optWeightDecay(Double.parseDouble(a.get("--weight-decay", "0.05")))
                    .optSeed(a.getLong("--seed", 0))
                    .optPlateau(0.5, a.getInt("--plateau-patience", 5))
                    .optEarlyStoppingPatience(a.getInt("--early-stopping", 10))
                    .optDropNegatives(noNegatives)
                    .optMirrorAugmentation(mirror)
                    .optResume(resume)
                    .optListener(TrainRelationClassifier::print);
            if (a.has("--split")) {
                String[] parts = a.get("--split", "").split(",");
                if (parts.length != 2) {
                    throw new IllegalArgumentException("--split takes TRAIN,VALIDATION fractions, e.g. 0.8,0.1 (the rest is the test split)");
                }
                builder.optSplit(Double.parseDouble(parts[0]), Double.parseDouble(parts[1]));
            }
            if (a.has("--threads")) {
                Engine.getEngine("PyTorch");
                JniUtils.setNumThreads(a.getInt("--threads", 1));
            }
        } catch (IllegalArgumentException | RelationDatasetException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        RelationClassifierTrainer trainer;
        try {
            trainer = builder.build();
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        System.out.printf(Locale.ROOT, "training %s (d_model %d) on %s%s%n", a.get("--architecture", "published"), trainer.config().dModel(),
                a.get("--data", ""), noNegatives ? ", positive prompts only" : "");
        RelationClassifierTrainer.Result r;
        try {
            r = trainer.train();
        } catch (IllegalStateException e) {
            System.err.println(e.getMessage());
            System.exit(1);
            return;
        }
        System.out.printf(Locale.ROOT, "stopped after %d epochs, %d steps: %s%n", r.epochs(), r.steps(), r.stopReason());
        System.out.printf(Locale.ROOT, "best checkpoint: %s (epoch %d, validation loss %.4f)%n", r.bestCheckpoint().toAbsolutePath(),
                r.bestEpoch(), r.bestValidationLoss());
        RelationEvaluation e = r.evaluation();
        if (e == null) {
            System.out.println("no test triplets: no evaluation report");
            return;
        }
        System.out.printf(Locale.ROOT, "test split: %s%n", e);
        System.out.println(e.leakageStatement());
        System.out.printf(Locale.ROOT, "centroid baseline on the same split (no training; the relation of the maps' centres of mass): "
                + "accuracy %.3f%s%n", r.baseline().accuracy(), r.baseline().accuracy() < 0.35
                        ? " - near chance: the maps carry little word-specific geometry" : "");
        System.out.println("report: " + r.evaluationJson().toAbsolutePath() + " and " + r.evaluationChart().toAbsolutePath());
    }

    private static void print(RelationClassifierTrainer.EpochReport r) {
        System.out.printf(Locale.ROOT, "epoch %3d (step %6d): train loss %.4f, val loss %.4f, val accuracy %.3f, lr %.3g%s, %.1fs%s%n",
                r.epoch(), r.step(), r.trainLoss(), r.validationLoss(), r.validationAccuracy(), r.learningRate(),
                r.nextLearningRate() < r.learningRate() ? String.format(Locale.ROOT, " (next %.3g)", r.nextLearningRate()) : "",
                r.seconds(), r.best() ? "  best" : "");
    }
}
