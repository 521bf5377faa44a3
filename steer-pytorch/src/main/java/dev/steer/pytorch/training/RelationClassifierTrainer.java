package dev.steer.pytorch.training;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.steer.core.relation.CentroidRelationBaseline;
import dev.steer.core.relation.RelationClassifierConfig;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.SafetensorsWriter;
import dev.steer.pytorch.nn.GradientSection;
import dev.steer.pytorch.internal.nn.Scalars;
import dev.steer.pytorch.relation.PublishedRelationClassifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Trains a relation classifier on a {@link RelationDataset} with the reference recipe: AdamW
 * (weight decay 0.05), learning rate 1e-4, batch 64, cross-entropy, reduce-on-plateau (x0.5 after
 * 5 epochs without a relative improvement of 1e-4 in validation loss, as torch's
 * {@code ReduceLROnPlateau}), early stopping after 10 epochs without a new lowest validation loss.
 * Dropout is on while training and off while evaluating. Optionally
 * ({@link Builder#optMirrorAugmentation}) training samples are mirrored with their labels swapped.
 *
 * <pre>{@code
 * RelationClassifierTrainer.Result r = RelationClassifierTrainer.builder(RelationDataset.open(data), out)
 *         .optArchitecture(RelationArchitecture.SMALL).optMaxEpochs(50).build().train();
 * // r.bestCheckpoint() loads straight into StableDiffusion.builder().optRelationClassifier(...)
 * }</pre>
 *
 * <p><b>Output folder.</b> {@value #BEST_DIR}/ holds the checkpoint with the lowest validation
 * loss in the library's format ({@link PublishedRelationClassifier#save}); {@value #LAST_DIR}/
 * the latest epoch's weights plus {@value #OPTIMIZER_FILE} (AdamW moments) and
 * {@value #STATE_FILE} (epoch, step, learning rate, plateau and early-stopping counters, history,
 * and the settings the run must be resumed with). Both are written to a temporary folder and
 * swapped in, so an interruption leaves the previous epoch's checkpoint intact. After training,
 * the best checkpoint is evaluated on the test split ({@link RelationEvaluation}:
 * {@value #EVALUATION_JSON}, {@value #EVALUATION_PNG}).
 *
 * <p><b>Reproducibility.</b> The split, the initial weights, the order of every epoch (seeded from
 * the seed and the epoch number) and the dropout masks (LibTorch's generator is re-seeded from the
 * seed and the step number before every step) all derive from the seed, so on CPU the same
 * dataset, options and seed give bit-identical weights, and a run {@link Builder#optResume
 * resumed} from its last checkpoint ends exactly where an uninterrupted run ends. Re-seeding
 * touches LibTorch's global generator: do not run other random LibTorch work concurrently.
 * Only one trainer may run per JVM at a time (LibTorch allows one gradient collector).
 */
public final class RelationClassifierTrainer {
    /** The folder (inside the output folder) with the lowest-validation-loss checkpoint. */
    public static final String BEST_DIR = "best";
    /** The folder with the latest epoch's checkpoint and training state. */
    public static final String LAST_DIR = "last";
    /** The training-state file inside {@value #LAST_DIR}. */
    public static final String STATE_FILE = "training-state.json";
    /** The optimizer-moments file inside {@value #LAST_DIR}. */
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    /** The final evaluation's JSON report (in the output folder). */
    public static final String EVALUATION_JSON = "evaluation.json";
    /** The final evaluation's chart (in the output folder). */
    public static final String EVALUATION_PNG = "evaluation.png";
    /** The {@link CentroidRelationBaseline}'s evaluation on the same test split (in the output folder). */
    public static final String BASELINE_JSON = "baseline.json";

    private static final String STATE_FORMAT = "steer-relation-training-state";
    private static final double PLATEAU_THRESHOLD = 1e-4;

    private final RelationDataset dataset;
    private final Path output;
    private final RelationClassifierConfig config;
    private final double learningRate;
    private final double weightDecay;
    private final int batchSize;
    private final double plateauFactor;
    private final int plateauPatience;
    private final int earlyStoppingPatience;
    private final int maxEpochs;
    private final long maxSteps;
    private final long seed;
    private final double trainRatio;
    private final double validationRatio;
    private final boolean dropNegatives;
    private final MirrorAugmentation mirror;
    private final boolean resume;
    private final EpochListener listener;
    private final Device device;
    private final boolean evaluate;

    private RelationClassifierTrainer(Builder b) {
        this.dataset = b.dataset;
        this.output = b.output;
        this.config = b.config != null ? b.config : b.architecture.config(dataset.relations(), dataset.mapsPerWord(), dataset.mapSize());
        this.learningRate = b.learningRate;
        this.weightDecay = b.weightDecay;
        this.batchSize = b.batchSize;
        this.plateauFactor = b.plateauFactor;
        this.plateauPatience = b.plateauPatience;
        this.earlyStoppingPatience = b.earlyStoppingPatience;
        this.maxEpochs = b.maxEpochs;
        this.maxSteps = b.maxSteps;
        this.seed = b.seed;
        this.trainRatio = b.trainRatio;
        this.validationRatio = b.validationRatio;
        this.dropNegatives = b.dropNegatives;
        this.mirror = b.mirrorAugmentation ? new MirrorAugmentation(b.dataset.relations()) : null;
        this.resume = b.resume;
        this.listener = b.listener;
        this.device = b.device;
        this.evaluate = b.evaluate;
        checkConfig();
    }

    /** A builder for training on {@code dataset}, writing into {@code outputDirectory}. */
    public static Builder builder(RelationDataset dataset, Path outputDirectory) {
        return new Builder(dataset, outputDirectory);
    }

    private void checkConfig() {
        if (!config.relations().equals(dataset.relations())) {
            throw new IllegalArgumentException("the classifier's classes " + config.relations() + " differ from the dataset's relations "
                    + dataset.relations());
        }
        if (config.mapSize() != dataset.mapSize()) {
            throw new IllegalArgumentException("the classifier reads " + config.mapSize() + "x" + config.mapSize() + " maps, the dataset has "
                    + dataset.mapSize() + "x" + dataset.mapSize());
        }
        if (config.mapsPerWord() > 0 ? config.mapsPerWord() != dataset.mapsPerWord() : dataset.mapsPerWord() > config.inputChannels()) {
            throw new IllegalArgumentException("the classifier takes " + (config.mapsPerWord() > 0 ? config.mapsPerWord()
                    : "at most " + config.inputChannels()) + " maps per word, the dataset has " + dataset.mapsPerWord());
        }
        for (int i = 0; i < dataset.size(); i++) {
            if (dataset.timestep(i) >= config.numTimesteps()) {
                throw new IllegalArgumentException("sample " + i + " has timestep index " + dataset.timestep(i) + " but the classifier embeds "
                        + config.numTimesteps() + " indices");
            }
        }
    }

    /** The classifier configuration being trained. */
    public RelationClassifierConfig config() {
        return config;
    }

    // ---- training

    /**
     * Trains (or, with {@link Builder#optResume}, continues the run in the output folder), keeps
     * the best checkpoint, and evaluates it on the test split.
     *
     * @throws IllegalStateException when the output folder already holds a run and resuming was not
     *     asked for, or when the run there was made with other settings
     * @throws UncheckedIOException when the output folder cannot be written
     */
    public Result train() {
        RelationDataset.Split split = dataset.split(seed, trainRatio, validationRatio);
        RelationDataset.Subset train = dropNegatives ? split.train().withoutNegatives() : split.train();
        RelationDataset.Subset validation = dropNegatives ? split.validation().withoutNegatives() : split.validation();
        if (train.isEmpty() || validation.isEmpty()) {
            throw new IllegalArgumentException("the split leaves " + train.size() + " training and " + validation.size()
                    + " validation samples (" + dataset.tripletIds().length + " triplets, ratios " + trainRatio + "/" + validationRatio
                    + (dropNegatives ? ", negatives dropped" : "") + "): both must be non-empty");
        }
        Path last = output.resolve(LAST_DIR);
        Path best = output.resolve(BEST_DIR);
        try {
            Files.createDirectories(output);
            recoverSwap(last);
            recoverSwap(best);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the output folder " + output, e);
        }
        Engine torch = Engine.getEngine("PyTorch");
        try (NDManager base = device == null ? torch.newBaseManager() : torch.newBaseManager(device)) {
            State state;
            PublishedRelationClassifier classifier;
            if (Files.isRegularFile(last.resolve(STATE_FILE))) {
                if (!resume) {
                    throw new IllegalStateException(output + " already holds a training run (" + LAST_DIR + "/" + STATE_FILE
                            + "); resume it (optResume(true), --resume) or choose an empty folder");
                }
                state = State.read(last.resolve(STATE_FILE));
                checkSettings(state.settings, settings());
                classifier = PublishedRelationClassifier.load(last, base);
                if (!classifier.config().equals(config)) {
                    classifier.close();
                    throw new IllegalStateException("the checkpoint in " + last + " has another configuration than this trainer's");
                }
            } else {
                state = State.fresh(learningRate, settings());
                classifier = PublishedRelationClassifier.initialize(config, seed, base);
            }
            try {
                return run(base, classifier, state, train, validation, split.test());
            } finally {
                classifier.close();
            }
        }
    }

    private Result run(NDManager base, PublishedRelationClassifier classifier, State state, RelationDataset.Subset train,
            RelationDataset.Subset validation, RelationDataset.Subset test) {
        Path last = output.resolve(LAST_DIR);
        Path best = output.resolve(BEST_DIR);
        realign(classifier);
        classifier.setRequiresGradient(true);
        AdamW optimizer = new AdamW(classifier.trainableParameters(), weightDecay);
        if (state.step > 0) {
            try (SafetensorsFile moments = SafetensorsFile.open(last.resolve(OPTIMIZER_FILE))) {
                optimizer.restore(state.step, name -> moments.contains(name) ? moments.readFloats(name) : null);
            }
        }
        while (!state.earlyStopped && state.epochsDone < maxEpochs && (maxSteps <= 0 || state.step < maxSteps)) {
            long t0 = System.nanoTime();
            int epoch = state.epochsDone;
            double lr = state.learningRate;
            classifier.setTraining(true);
            double lossSum = 0;
            long seen = 0;
            for (int[] indices : train.batchIndices(batchSize, mix(seed, epoch))) {
                if (maxSteps > 0 && state.step >= maxSteps) {
                    break;
                }
                RelationDataset.Batch batch = dataset.batch(indices);
                if (mirror != null) {
                    batch = mirror.apply(batch, new Random(mix(seed ^ 0x6D6972726F72L, state.step)));
                }
                lossSum += (double) trainStep(classifier, optimizer, batch, base, lr, seed, state.step) * batch.size();
                seen += batch.size();
                state.step++;
            }
            classifier.setTraining(false);
            RelationEvaluation val = RelationEvaluation.evaluate(classifier, validation, batchSize, base);
            double valLoss = val.loss();
            boolean improved = valLoss < state.bestValidationLoss;
            if (improved) {
                state.bestValidationLoss = valLoss;
                state.bestEpoch = epoch + 1;
                state.epochsWithoutImprovement = 0;
            } else {
                state.epochsWithoutImprovement++;
            }
            // torch ReduceLROnPlateau(mode="min", factor, patience, threshold=1e-4 relative)
            if (valLoss < state.plateauBest * (1 - PLATEAU_THRESHOLD)) {
                state.plateauBest = valLoss;
                state.plateauBadEpochs = 0;
            } else if (++state.plateauBadEpochs > plateauPatience) {
                state.learningRate *= plateauFactor;
                state.plateauBadEpochs = 0;
            }
            state.epochsDone = epoch + 1;
            if (state.epochsWithoutImprovement >= earlyStoppingPatience) {
                state.earlyStopped = true;
            }
            EpochReport report = new EpochReport(epoch + 1, state.step, seen == 0 ? Double.NaN : lossSum / seen, valLoss, val.accuracy(),
                    lr, state.learningRate, improved, (System.nanoTime() - t0) / 1e9);
            state.history.add(report);
            if (improved) {
                writeAtomically(best, tmp -> classifier.save(tmp));
            }
            writeAtomically(last, tmp -> {
                classifier.save(tmp);
                SafetensorsWriter.write(tmp.resolve(OPTIMIZER_FILE), optimizer.state(), Map.of("step", Long.toString(state.step)));
                write(tmp.resolve(STATE_FILE), state.toJson());
            });
            if (listener != null) {
                listener.onEpoch(report);
            }
        }
        String reason = state.earlyStopped ? "early stopping: no lower validation loss in " + earlyStoppingPatience + " epochs"
                : state.epochsDone >= maxEpochs ? "reached " + maxEpochs + " epochs" : "reached " + maxSteps + " steps";
        RelationEvaluation evaluation = null;
        RelationEvaluation baseline = null;
        Path json = null;
        Path chart = null;
        if (evaluate && !test.isEmpty() && Files.isDirectory(best)) {
            try (PublishedRelationClassifier chosen = PublishedRelationClassifier.load(best, base)) {
                realign(chosen);
                evaluation = RelationEvaluation.evaluate(chosen, test, batchSize, base);
            }
            try (CentroidRelationBaseline rule = new CentroidRelationBaseline(dataset.relations(), dataset.mapsPerWord())) {
                baseline = RelationEvaluation.evaluate(rule, test, batchSize, base);
            }
            baseline.writeJson(output.resolve(BASELINE_JSON));
            json = output.resolve(EVALUATION_JSON);
            chart = output.resolve(EVALUATION_PNG);
            evaluation.writeJson(json);
            evaluation.writeChart(chart, "test split, best checkpoint (epoch " + state.bestEpoch + ")" + (dropNegatives
                    ? ", trained without negatives" : ""));
        }
        return new Result(output, best, last, state.epochsDone, state.step, state.bestEpoch, state.bestValidationLoss, reason,
                List.copyOf(state.history), evaluation, json, chart, baseline);
    }

    /**
     * One optimizer step on one batch, everything temporary in a sub-manager of {@code base}:
     * LibTorch's generator re-seeded from (seed, step) for the dropout masks, forward and
     * cross-entropy under a gradient collector, backward, AdamW update.
     *
     * @return the batch's mean loss
     */
    static float trainStep(PublishedRelationClassifier classifier, AdamW optimizer, RelationDataset.Batch batch, NDManager base,
            double lr, long seed, long step) {
        Engine engine = base.getEngine();
        engine.setRandomSeed((int) mix(seed ^ 0x5DEECE66DL, step));
        try (NDManager scope = base.newSubManager()) {
            NDArray loss;
            try (GradientSection gc = GradientSection.open(engine)) {
                loss = crossEntropy(classifier.logits(aligned(batch.mapsArray(scope)), batch.timestepArray(scope)), batch.labels());
                gc.backward(loss);
            }
            float value = loss.getFloat();
            optimizer.update(scope, lr);
            return value;
        }
    }

    /**
     * A copy of {@code array} in memory that LibTorch allocated (64-byte aligned), closing the
     * original. Arrays made from Java data on CPU wrap a Java direct buffer whose alignment varies
     * from run to run, and vectorised CPU kernels may round differently at different alignments:
     * copying keeps runs bit-reproducible across processes.
     */
    static NDArray aligned(NDArray array) {
        NDArray copy = array.duplicate();
        array.close();
        return copy;
    }

    /** Moves every weight (buffers included) into LibTorch-allocated memory; see {@link #aligned}. */
    private static void realign(PublishedRelationClassifier classifier) {
        for (dev.steer.pytorch.nn.Weight w : classifier.namedParameters().values()) {
            w.set(w.value().duplicate());
        }
    }

    /** Mean cross-entropy of logits [B, C] against integer labels. */
    static NDArray crossEntropy(NDArray logits, long[] labels) {
        int b = (int) logits.getShape().get(0);
        int c = (int) logits.getShape().get(1);
        float[] oneHot = new float[b * c];
        for (int i = 0; i < b; i++) {
            oneHot[i * c + (int) labels[i]] = 1f;
        }
        NDArray mask = logits.getManager().create(oneHot, new Shape(b, c));
        return Scalars.div(logits.logSoftmax(1).mul(mask).sum().neg(), b);
    }

    /** SplitMix64 of (a, b): decorrelated seeds for epochs and steps. */
    static long mix(long a, long b) {
        long z = a + 0x9E3779B97F4A7C15L * (b + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    // ---- settings a resumed run must share

    private JsonObject settings() {
        JsonObject s = new JsonObject();
        s.addProperty("seed", seed);
        s.addProperty("batch_size", batchSize);
        s.addProperty("learning_rate", learningRate);
        s.addProperty("weight_decay", weightDecay);
        s.addProperty("train_ratio", trainRatio);
        s.addProperty("validation_ratio", validationRatio);
        s.addProperty("drop_negatives", dropNegatives);
        if (mirror != null) { // absent when off, so runs saved before the option existed still resume
            s.addProperty("mirror_augmentation", true);
        }
        s.addProperty("plateau_factor", plateauFactor);
        s.addProperty("dataset_samples", dataset.size());
        s.addProperty("dataset_triplets", dataset.tripletIds().length);
        JsonArray rel = new JsonArray();
        dataset.relations().forEach(rel::add);
        s.add("relations", rel);
        return s;
    }

    private void checkSettings(JsonObject saved, JsonObject now) {
        List<String> diffs = new ArrayList<>();
        for (String key : now.keySet()) {
            if (!Objects.equals(saved.get(key), now.get(key))) {
                diffs.add(key + " was " + saved.get(key) + ", now " + now.get(key));
            }
        }
        if (!diffs.isEmpty()) {
            throw new IllegalStateException("cannot resume the run in " + output + " with other settings: " + String.join("; ", diffs));
        }
    }

    // ---- files

    private interface DirWriter {
        void write(Path tmp) throws IOException;
    }

    /** Writes into {@code target}.tmp, then swaps it in; {@link #recoverSwap} repairs an interrupted swap. */
    private static void writeAtomically(Path target, DirWriter writer) {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Path old = target.resolveSibling(target.getFileName() + ".old");
        try {
            deleteTree(tmp);
            Files.createDirectories(tmp);
            writer.write(tmp);
            deleteTree(old);
            if (Files.exists(target)) {
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(old);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the checkpoint " + target, e);
        }
    }

    private static void recoverSwap(Path target) throws IOException {
        Path old = target.resolveSibling(target.getFileName() + ".old");
        if (!Files.exists(target) && Files.isDirectory(old)) {
            Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
        }
        deleteTree(old);
        deleteTree(target.resolveSibling(target.getFileName() + ".tmp"));
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static void write(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    // ---- state

    /** Everything a resumed run needs besides weights and moments; seeds derive from (seed, epoch) and (seed, step). */
    private static final class State {
        int epochsDone;
        long step;
        double learningRate;
        double bestValidationLoss = Double.POSITIVE_INFINITY;
        int bestEpoch;
        int epochsWithoutImprovement;
        double plateauBest = Double.POSITIVE_INFINITY;
        int plateauBadEpochs;
        boolean earlyStopped;
        JsonObject settings;
        final List<EpochReport> history = new ArrayList<>();

        static State fresh(double lr, JsonObject settings) {
            State s = new State();
            s.learningRate = lr;
            s.settings = settings;
            return s;
        }

        String toJson() {
            JsonObject o = new JsonObject();
            o.addProperty("format", STATE_FORMAT);
            o.addProperty("version", 1);
            o.addProperty("epochs_done", epochsDone);
            o.addProperty("step", step);
            o.addProperty("learning_rate", learningRate);
            o.add("best_validation_loss", number(bestValidationLoss));
            o.addProperty("best_epoch", bestEpoch);
            o.addProperty("epochs_without_improvement", epochsWithoutImprovement);
            o.add("plateau_best", number(plateauBest));
            o.addProperty("plateau_bad_epochs", plateauBadEpochs);
            o.addProperty("early_stopped", earlyStopped);
            o.addProperty("rng", "epoch order: SplittableRandom(mix(seed, epoch)); dropout: LibTorch seeded with mix(seed ^ 0x5DEECE66D, step)"
                    + " before each step");
            o.add("settings", settings);
            JsonArray h = new JsonArray();
            for (EpochReport r : history) {
                JsonObject e = new JsonObject();
                e.addProperty("epoch", r.epoch());
                e.addProperty("step", r.step());
                e.add("train_loss", number(r.trainLoss()));
                e.add("validation_loss", number(r.validationLoss()));
                e.add("validation_accuracy", number(r.validationAccuracy()));
                e.addProperty("learning_rate", r.learningRate());
                e.addProperty("next_learning_rate", r.nextLearningRate());
                e.addProperty("best", r.best());
                e.addProperty("seconds", r.seconds());
                h.add(e);
            }
            o.add("history", h);
            return new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(o) + "\n";
        }

        static State read(Path file) {
            JsonObject o;
            try {
                o = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            } catch (JsonParseException | IllegalStateException e) {
                throw new IllegalStateException(file + " is not a training-state file: " + e.getMessage(), e);
            }
            if (!o.has("format") || !STATE_FORMAT.equals(o.get("format").getAsString())) {
                throw new IllegalStateException(file + " is not a training-state file ('format' is not '" + STATE_FORMAT + "')");
            }
            try {
                State s = new State();
                s.epochsDone = o.get("epochs_done").getAsInt();
                s.step = o.get("step").getAsLong();
                s.learningRate = o.get("learning_rate").getAsDouble();
                s.bestValidationLoss = toDouble(o.get("best_validation_loss"));
                s.bestEpoch = o.get("best_epoch").getAsInt();
                s.epochsWithoutImprovement = o.get("epochs_without_improvement").getAsInt();
                s.plateauBest = toDouble(o.get("plateau_best"));
                s.plateauBadEpochs = o.get("plateau_bad_epochs").getAsInt();
                s.earlyStopped = o.get("early_stopped").getAsBoolean();
                s.settings = o.getAsJsonObject("settings");
                for (JsonElement el : o.getAsJsonArray("history")) {
                    JsonObject e = el.getAsJsonObject();
                    s.history.add(new EpochReport(e.get("epoch").getAsInt(), e.get("step").getAsLong(), toDouble(e.get("train_loss")),
                            toDouble(e.get("validation_loss")), toDouble(e.get("validation_accuracy")), e.get("learning_rate").getAsDouble(),
                            e.get("next_learning_rate").getAsDouble(), e.get("best").getAsBoolean(), e.get("seconds").getAsDouble()));
                }
                return s;
            } catch (RuntimeException e) {
                throw new IllegalStateException(file + " is incomplete or malformed: " + e, e);
            }
        }

        private static JsonElement number(double d) {
            return Double.isFinite(d) ? new Gson().toJsonTree(d) : com.google.gson.JsonNull.INSTANCE;
        }

        private static double toDouble(JsonElement e) {
            return e == null || e.isJsonNull() ? Double.POSITIVE_INFINITY : e.getAsDouble();
        }
    }

    // ---- public types

    /**
     * One finished epoch.
     *
     * @param epoch the epoch number, from 1
     * @param step optimizer steps taken so far
     * @param trainLoss mean training cross-entropy over the epoch (dropout on, weights changing)
     * @param validationLoss mean validation cross-entropy (dropout off)
     * @param validationAccuracy validation accuracy
     * @param learningRate the learning rate used in this epoch
     * @param nextLearningRate the learning rate for the next epoch (halved after a plateau)
     * @param best true when this epoch's validation loss is the lowest so far (its weights are in {@value #BEST_DIR})
     * @param seconds wall time of the epoch, validation included
     */
    public record EpochReport(int epoch, long step, double trainLoss, double validationLoss, double validationAccuracy,
            double learningRate, double nextLearningRate, boolean best, double seconds) {
    }

    /** Called after every epoch, once its checkpoint is on disk. An exception thrown here stops training (resumable). */
    @FunctionalInterface
    public interface EpochListener {
        /** One epoch finished. */
        void onEpoch(EpochReport report);
    }

    /**
     * The outcome of {@link #train()}.
     *
     * @param outputDirectory the output folder
     * @param bestCheckpoint the folder with the lowest-validation-loss weights (library format)
     * @param lastCheckpoint the folder with the last epoch's weights and training state
     * @param epochs epochs done (over all resumed sessions)
     * @param steps optimizer steps done
     * @param bestEpoch the epoch (from 1) of the best checkpoint
     * @param bestValidationLoss its validation loss
     * @param stopReason why training stopped, in words
     * @param history every epoch's report, in order
     * @param evaluation the best checkpoint on the test split, or null when the split has no test samples
     * @param evaluationJson where that evaluation was written as JSON, or null
     * @param evaluationChart where its chart was written, or null
     * @param baseline the {@link CentroidRelationBaseline} on the same test split (written to
     *     {@value #BASELINE_JSON}), or null: the yardstick for {@code evaluation}
     */
    public record Result(Path outputDirectory, Path bestCheckpoint, Path lastCheckpoint, int epochs, long steps, int bestEpoch,
            double bestValidationLoss, String stopReason, List<EpochReport> history, RelationEvaluation evaluation, Path evaluationJson,
            Path evaluationChart, RelationEvaluation baseline) {
        /** Defensive copy of the history. */
        public Result {
            history = Collections.unmodifiableList(new ArrayList<>(history));
        }
    }

    /**
     * Options of a {@link RelationClassifierTrainer}; the defaults are the reference's recipe for
     * SD with the published architecture.
     */
    public static final class Builder {
        private final RelationDataset dataset;
        private final Path output;
        private RelationArchitecture architecture = RelationArchitecture.PUBLISHED;
        private RelationClassifierConfig config;
        private double learningRate = 1e-4;
        private double weightDecay = 0.05;
        private int batchSize = 64;
        private double plateauFactor = 0.5;
        private int plateauPatience = 5;
        private int earlyStoppingPatience = 10;
        private int maxEpochs = 100;
        private long maxSteps;
        private long seed;
        private double trainRatio = 0.8;
        private double validationRatio = 0.1;
        private boolean dropNegatives;
        private boolean mirrorAugmentation;
        private boolean resume;
        private EpochListener listener;
        private Device device;
        private boolean evaluate = true;

        private Builder(RelationDataset dataset, Path output) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
            this.output = Objects.requireNonNull(output, "output directory");
        }

        /** The architecture (default {@link RelationArchitecture#PUBLISHED}), sized for the dataset. */
        public Builder optArchitecture(RelationArchitecture architecture) {
            this.architecture = Objects.requireNonNull(architecture);
            this.config = null;
            return this;
        }

        /** An explicit classifier configuration (overrides the architecture); its classes must be the dataset's relations. */
        public Builder optConfig(RelationClassifierConfig config) {
            this.config = Objects.requireNonNull(config);
            return this;
        }

        /** Initial learning rate (default 1e-4). */
        public Builder optLearningRate(double lr) {
            check(lr > 0 && Double.isFinite(lr), "learning rate must be positive");
            this.learningRate = lr;
            return this;
        }

        /** AdamW's decoupled weight decay (default 0.05). */
        public Builder optWeightDecay(double wd) {
            check(wd >= 0 && Double.isFinite(wd), "weight decay must not be negative");
            this.weightDecay = wd;
            return this;
        }

        /** Samples per step (default 64). */
        public Builder optBatchSize(int batchSize) {
            check(batchSize > 0, "batch size must be positive");
            this.batchSize = batchSize;
            return this;
        }

        /** Reduce-on-plateau: multiply the learning rate by {@code factor} after {@code patience} epochs without improvement (default 0.5, 5). */
        public Builder optPlateau(double factor, int patience) {
            check(factor > 0 && factor <= 1, "plateau factor must be in (0, 1]");
            check(patience >= 0, "plateau patience must not be negative");
            this.plateauFactor = factor;
            this.plateauPatience = patience;
            return this;
        }

        /** Stop after this many epochs without a new lowest validation loss (default 10). */
        public Builder optEarlyStoppingPatience(int patience) {
            check(patience > 0, "early-stopping patience must be positive");
            this.earlyStoppingPatience = patience;
            return this;
        }

        /** The most epochs (default 100); a resumed run may raise it. */
        public Builder optMaxEpochs(int epochs) {
            check(epochs > 0, "max epochs must be positive");
            this.maxEpochs = epochs;
            return this;
        }

        /** The most optimizer steps over the whole run (0, the default: no limit); stops mid-epoch, then validates. */
        public Builder optMaxSteps(long steps) {
            check(steps >= 0, "max steps must not be negative");
            this.maxSteps = steps;
            return this;
        }

        /** The seed of the split, the initial weights, the shuffling and dropout (default 0). */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Fractions of the triplets for training and validation; the rest is the test split (default 0.8, 0.1). */
        public Builder optSplit(double train, double validation) {
            check(train > 0 && validation > 0 && train + validation <= 1, "need train > 0, validation > 0, train + validation <= 1");
            this.trainRatio = train;
            this.validationRatio = validation;
            return this;
        }

        /**
         * Drops the negative-prompt samples from training and validation (the reference's
         * ablation, which lets the classifier learn the relation word's trace); the test split
         * keeps them so the evaluation measures the leakage.
         */
        public Builder optDropNegatives(boolean drop) {
            this.dropNegatives = drop;
            return this;
        }

        /**
         * Mirrors training samples at random, left-right and top-bottom, swapping the label's
         * relation accordingly ({@link MirrorAugmentation}); default false, the reference recipe.
         * Validation and test samples are never mirrored.
         */
        public Builder optMirrorAugmentation(boolean mirror) {
            this.mirrorAugmentation = mirror;
            return this;
        }

        /** Continues the run in the output folder from its last checkpoint, if there is one (default false: refuse a used folder). */
        public Builder optResume(boolean resume) {
            this.resume = resume;
            return this;
        }

        /** Called after every epoch. */
        public Builder optListener(EpochListener listener) {
            this.listener = listener;
            return this;
        }

        /** The device to train on (default: the engine's default device). Bit-reproducibility is only promised on CPU. */
        public Builder optDevice(Device device) {
            this.device = device;
            return this;
        }

        /** Whether to evaluate the best checkpoint on the test split at the end (default true). */
        public Builder optEvaluate(boolean evaluate) {
            this.evaluate = evaluate;
            return this;
        }

        /** The trainer. @throws IllegalArgumentException when the configuration does not fit the dataset */
        public RelationClassifierTrainer build() {
            return new RelationClassifierTrainer(this);
        }

        private static void check(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
