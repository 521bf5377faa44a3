package dev.steer.pytorch.dataset;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.steer.core.engine.StepObserver;
import dev.steer.core.dataset.RecordFilters;
import dev.steer.core.dataset.RecordReport;
import dev.steer.core.dataset.RelationRecord;
import dev.steer.core.dataset.RelationSources;
import dev.steer.core.relation.RelationParser;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.steering.ClassifierTimesteps;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.pytorch.attention.TorchAttentionProbe;
import dev.steer.pytorch.dataset.ShardWriter.Sample;
import dev.steer.pytorch.inversion.DdimInversion;
import dev.steer.pytorch.inversion.EncodedImage;
import dev.steer.pytorch.inversion.FlowMatchInversion;
import dev.steer.pytorch.inversion.ImageFit;
import dev.steer.pytorch.inversion.ImageInversion;
import dev.steer.pytorch.inversion.Inverted;
import dev.steer.pytorch.inversion.Reconstruction;
import dev.steer.pytorch.pipeline.FluxPipeline;
import dev.steer.pytorch.pipeline.StableDiffusion;
import java.awt.image.BufferedImage;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a relation dataset by dual inversion (Learn-to-Steer's training data) in the on-disk format
 * of {@code docs/relation-dataset.md}: for each (image, subject, relation, object) triplet, the image
 * is inverted with a positive prompt stating the true relation and with negative prompts stating a
 * wrong one (template {@value #PROMPT_TEMPLATE}); each inversion is re-denoised with its prompt while a
 * {@link TorchAttentionProbe} records the subject's and the object's cross-attention maps at the
 * training step indices, and every recorded step becomes one sample labelled with the TRUE relation.
 * Inversions whose reconstruction PSNR is under the threshold are dropped and counted.
 *
 * <pre>{@code
 * try (StableDiffusion sd = StableDiffusion.builder().setModelFolder(Path.of("sd-1.5")).build()) {
 *     RelationDatasetBuilder.Summary s = RelationDatasetBuilder.builder()
 *             .setPipeline(sd).setOutputDir(Path.of("relations-sd15"))
 *             .addManifest(Path.of("pairs.jsonl"))
 *             .addGqa(Path.of("train_sceneGraphs.json"), Path.of("gqa/images"))
 *             .build().run();
 * }
 * }</pre>
 *
 * <p><b>Inputs.</b> JSON Lines manifests, GQA scene graphs and COCO instances are read by
 * {@link RelationSources} with the {@link RecordFilters}; explicit {@link RelationRecord}s may be
 * added too. Valid records, in input order, become triplets {@code 0, 1, 2...}. Bad records (missing
 * image, box outside the image, unknown relation, a word not found in the tokenized prompt...) are
 * skipped, counted in the manifest's report, listed in {@code skipped.jsonl} and summarised on the
 * progress stream: never fatal, never silent.
 *
 * <p><b>Resume.</b> Samples are written in shards of whole triplets, each shard as soon as at least
 * {@code shardSize} samples are waiting (so a shard may hold a few more); after each shard the
 * manifest lists the triplets whose samples are all written ({@code completed_triplets}). Running again on
 * the same output folder with the same inputs and settings skips those triplets; different settings
 * or inputs are refused, naming what differs. {@link Builder#optStopAfter}, a thread interrupt, or a
 * listener exception stop a run between triplets (the first two after writing what is complete).
 *
 * <p><b>Timesteps.</b> The maps of classifier index {@code k} (default
 * {@link ClassifierTimesteps#TRAINED}) are recorded at denoising step {@code k} of a 50-step
 * schedule; with {@code n} steps, at step {@code min(n - 1, round(k n / 50))} (the same fraction of
 * the schedule). The {@code timestep} stored is {@code k}.
 *
 * <p>Not thread-safe; one run at a time per output folder.
 */
public final class RelationDatasetBuilder {
    private static final Logger LOG = LoggerFactory.getLogger(RelationDatasetBuilder.class);

    /** The manifest's {@code format}. */
    public static final String FORMAT = "steer-relation-dataset";
    /** The manifest's {@code version}. */
    public static final int VERSION = 1;
    /** The prompts' template (the reference's). */
    public static final String PROMPT_TEMPLATE = "A {subject} {relation} a {object}";
    /** Side of the stored maps. */
    public static final int MAP_SIZE = TorchAttentionProbe.MAP_SIZE;
    /** The relations in label order: the manifest's {@code relations}. */
    public static final List<SpatialRelation> RELATIONS = List.of(SpatialRelation.values());
    /** The failure counted when an image that was listed cannot be decoded at build time. */
    public static final String BUILD_UNREADABLE_IMAGE = RecordReport.UNREADABLE_IMAGE;

    private static final Pattern SHARD = Pattern.compile("shard-\\d{5}\\.safetensors(\\.tmp)?");
    private static final Gson LINE = new GsonBuilder().disableHtmlEscaping().create();

    private final Path out;
    private final List<Source> sources;
    private final ImageInversion inversion;
    private final double psnrThreshold;
    private final int negatives;
    private final int[] classifierIndices;
    private final int[] stepOfIndex;
    private final int shardSize;
    private final RecordFilters filters;
    private final long seed;
    private final int maxTriplets;
    private final int stopAfter;
    private final PrintStream progress;
    private final Duration progressInterval;
    private final TripletListener listener;
    private final String model;
    private final int mapsPerWord;

    private record Source(String kind, Path file, Path imagesDir, List<RelationRecord> records) {
    }

    private record PromptSpec(String text, SpatialRelation relation, boolean positive, int[] subject, int[] object) {
    }

    private record Triplet(int id, RelationRecord record, List<PromptSpec> prompts) {
    }

    /**
     * What happened to one triplet in this run.
     *
     * @param id the triplet id
     * @param record its source record
     * @param samples samples it produced
     * @param inversions inversions made (one per prompt)
     * @param droppedLowPsnr inversions dropped for a reconstruction PSNR under the threshold
     * @param psnrs reconstruction PSNR per prompt (positive first), dB
     * @param failure why it produced nothing (e.g. "unreadable image: ..."), or null
     */
    public record TripletOutcome(int id, RelationRecord record, int samples, int inversions, int droppedLowPsnr, double[] psnrs,
            String failure) {
    }

    /** Hears about each processed triplet (after its samples are buffered, before they are written). */
    @FunctionalInterface
    public interface TripletListener {
        /** Called after triplet {@code outcome.id()}; an exception stops the run without writing the pending samples. */
        void onTriplet(TripletOutcome outcome);
    }

    /**
     * The result of a run.
     *
     * @param triplets triplets in the dataset (valid records)
     * @param alreadyCompleted triplets completed by earlier runs, skipped in this one
     * @param processed triplets processed in this run
     * @param samples samples written in this run
     * @param inversions inversions made in this run
     * @param droppedLowPsnr inversions dropped in this run for a reconstruction PSNR under the threshold
     * @param meanPsnr mean reconstruction PSNR of this run's inversions (dB; NaN when none)
     * @param shards shards written in this run
     * @param complete true when every triplet is completed
     * @param seconds wall time of the run
     * @param report the input records' report (read in this run)
     */
    public record Summary(int triplets, int alreadyCompleted, int processed, long samples, int inversions, int droppedLowPsnr,
            double meanPsnr, int shards, boolean complete, double seconds, RecordReport report) {
    }

    private RelationDatasetBuilder(Builder b) {
        this.out = b.outputDir;
        this.sources = List.copyOf(b.sources);
        this.inversion = b.pipeline != null
                ? DdimInversion.builder().setPipeline(b.pipeline).optSteps(b.steps).optFixedPointIterations(b.iterations)
                        .optImageFit(b.fit).build()
                : FlowMatchInversion.builder().setPipeline(b.flux).optSteps(b.steps).optFixedPointIterations(b.iterations)
                        .optImageFit(b.fit).build();
        this.psnrThreshold = b.psnrThreshold;
        this.negatives = b.negatives;
        this.classifierIndices = b.stepIndices.clone();
        this.stepOfIndex = new int[classifierIndices.length];
        Map<Integer, Integer> used = new LinkedHashMap<>();
        for (int i = 0; i < classifierIndices.length; i++) {
            int k = classifierIndices[i];
            int step = stepFor(k, b.steps);
            Integer clash = used.put(step, k);
            if (clash != null) {
                throw new IllegalArgumentException("classifier indices " + clash + " and " + k + " both fall on step " + step + " of "
                        + b.steps + ": use more steps or fewer indices");
            }
            stepOfIndex[i] = step;
        }
        this.shardSize = b.shardSize;
        this.filters = b.filters;
        this.seed = b.seed;
        this.maxTriplets = b.maxTriplets;
        this.stopAfter = b.stopAfter;
        this.progress = b.progress;
        this.progressInterval = b.progressInterval;
        this.listener = b.listener;
        this.model = b.model != null ? b.model : inversion.modelDescription();
        this.mapsPerWord = inversion.mapsPerWord();
    }

    /** Starts configuring a dataset build. */
    public static Builder builder() {
        return new Builder();
    }

    /** The prompt for a triplet: {@value #PROMPT_TEMPLATE} with the relation's canonical name. */
    public static String prompt(String subject, SpatialRelation relation, String object) {
        return PROMPT_TEMPLATE.replace("{subject}", subject).replace("{relation}", relation.canonicalName()).replace("{object}", object);
    }

    /**
     * The denoising step (of {@code steps}) at which classifier index {@code k} (of a 50-step
     * schedule) is recorded: {@code k} itself for 50 steps, else {@code min(steps - 1, round(k steps / 50))}.
     */
    public static int stepFor(int classifierIndex, int steps) {
        if (classifierIndex < 0 || classifierIndex >= 50) {
            throw new IllegalArgumentException("classifier step indices are in [0, 50), got " + classifierIndex);
        }
        return steps == 50 ? classifierIndex : Math.min(steps - 1, (int) Math.round(classifierIndex * steps / 50.0));
    }

    /** Maps per word (N) this model gives: the heads of every cross-attention layer. */
    public int mapsPerWord() {
        return mapsPerWord;
    }

    /**
     * Reads the inputs, then inverts and records every triplet not yet completed in the output folder,
     * writing shards and the manifest as it goes.
     *
     * @throws IOException if the output folder cannot be written
     * @throws IllegalStateException if the output folder holds a dataset built with other settings or
     *     inputs, or unrelated files
     * @throws UncheckedIOException if an input file as a whole cannot be read
     */
    public Summary run() throws IOException {
        long start = System.nanoTime();
        RecordReport report = new RecordReport();
        List<Triplet> triplets = prepare(report);
        Files.createDirectories(out);
        State state = State.load(out, this, triplets);
        int alreadyCompleted = state.completed.size();
        writeTriplets(triplets);
        log(() -> "relation dataset " + out + ": " + triplets.size() + " triplets (" + alreadyCompleted + " already completed); inputs: "
                + report.summary(3));

        List<Sample> buffer = new ArrayList<>();
        List<Pending> pending = new ArrayList<>();
        int processed = 0;
        long samples = 0;
        int inversions = 0;
        int dropped = 0;
        double psnrSum = 0;
        int psnrCount = 0;
        int shardsBefore = state.shards.size();
        long lastLog = System.nanoTime();
        int todo = triplets.size() - alreadyCompleted;
        try {
            for (Triplet t : triplets) {
                if (state.completed.contains(t.id())) {
                    continue;
                }
                if (stopAfter > 0 && processed >= stopAfter || Thread.currentThread().isInterrupted()) {
                    break;
                }
                Pending p = process(t, buffer);
                pending.add(p);
                processed++;
                inversions += p.inversions;
                dropped += p.dropped;
                for (double v : p.psnrs) {
                    if (Double.isFinite(v)) {
                        psnrSum += v;
                        psnrCount++;
                    }
                }
                if (listener != null) {
                    listener.onTriplet(new TripletOutcome(t.id(), t.record(), p.samples, p.inversions, p.dropped, p.psnrs.clone(),
                            p.failure));
                }
                if (buffer.size() >= shardSize) {
                    samples += flush(state, buffer, pending, report);
                }
                long now = System.nanoTime();
                if (now - lastLog >= progressInterval.toNanos() || processed == todo) {
                    lastLog = now;
                    progressLine(processed, todo, alreadyCompleted, triplets.size(), samples + buffer.size(), dropped, psnrSum, psnrCount,
                            now - start);
                }
            }
            samples += flush(state, buffer, pending, report);
        } catch (RuntimeException | Error e) {
            log(() -> "relation dataset stopped by " + e + "; " + state.completed.size() + " of " + triplets.size()
                    + " triplets are complete on disk; run again to resume");
            throw e;
        }
        writeSkipped(report);
        boolean complete = state.completed.size() == triplets.size();
        double seconds = (System.nanoTime() - start) / 1e9;
        Summary summary = new Summary(triplets.size(), alreadyCompleted, processed, samples, inversions, dropped,
                psnrCount == 0 ? Double.NaN : psnrSum / psnrCount, state.shards.size() - shardsBefore, complete, seconds, report);
        log(() -> String.format(Locale.ROOT, "relation dataset %s: %s; %d/%d triplets complete, %d samples written in %d shard(s) this run, "
                + "%d of %d inversions dropped under %.1f dB (mean PSNR %.2f dB), %.1fs", out, complete ? "complete" : "stopped",
                state.completed.size(), triplets.size(), summary.samples(), summary.shards(), summary.droppedLowPsnr(),
                summary.inversions(), psnrThreshold,
                summary.meanPsnr(), seconds));
        return summary;
    }

    // ---------------------------------------------------------------- inputs

    private List<Triplet> prepare(RecordReport report) {
        List<RelationRecord> records = new ArrayList<>();
        for (Source s : sources) {
            switch (s.kind()) {
                case "manifest" -> records.addAll(RelationSources.readManifest(s.file(), filters, report));
                case "gqa" -> records.addAll(RelationSources.readGqa(s.file(), s.imagesDir(), filters, report));
                case "coco" -> records.addAll(RelationSources.readCoco(s.file(), s.imagesDir(), filters, report));
                default -> {
                    for (RelationRecord r : s.records()) {
                        report.countRecord();
                        report.countKept();
                        records.add(r);
                    }
                }
            }
        }
        List<Triplet> triplets = new ArrayList<>();
        for (RelationRecord r : records) {
            if (maxTriplets > 0 && triplets.size() >= maxTriplets) {
                report.skipKept(RecordReport.BEYOND_MAX_TRIPLETS, r.source(), "only the first " + maxTriplets + " triplets are used");
                continue;
            }
            int id = triplets.size();
            List<SpatialRelation> wrong = new ArrayList<>(RELATIONS);
            wrong.remove(r.relation());
            Collections.shuffle(wrong, new Random(seed * 1_000_003L + id));
            List<PromptSpec> prompts = new ArrayList<>();
            String failure = null;
            List<SpatialRelation> written = new ArrayList<>();
            written.add(r.relation());
            written.addAll(wrong.subList(0, negatives));
            for (SpatialRelation rel : written) {
                String text = prompt(r.subject(), rel, r.object());
                try {
                    TokenBinding b = bind(inversion.tokenize(text), r.subject(), rel, r.object());
                    prompts.add(new PromptSpec(text, rel, rel == r.relation(), b.subjectPositions(), b.objectPositions()));
                } catch (IllegalArgumentException e) {
                    failure = e.getMessage();
                    break;
                }
            }
            if (failure != null) {
                report.skipKept(RecordReport.WORD_NOT_IN_PROMPT, r.source(), failure);
                continue;
            }
            triplets.add(new Triplet(id, r, List.copyOf(prompts)));
        }
        return triplets;
    }

    /**
     * Binds subject and object as steering binds a prompt: when {@link RelationParser} reads the
     * prompt as exactly this relation, its words are used ("red circle" binds the noun "circle",
     * like {@code SteeringRequest.fromPrompt()} on "a red circle left of a blue square"); otherwise
     * the record's words, taking the first occurrence of the object that does not overlap the subject.
     */
    static TokenBinding bind(TokenizedPrompt prompt, String subject, SpatialRelation relation, String object) {
        List<RelationTriplet> parsed = RelationParser.standard().parse(prompt.prompt());
        if (parsed.size() == 1 && parsed.get(0).relation() == relation) {
            try {
                return TokenBinding.bind(prompt, parsed.get(0));
            } catch (IllegalArgumentException e) {
                // fall through to the record's words
            }
        }
        IllegalArgumentException last = null;
        for (int occurrence = 0; occurrence < 3; occurrence++) {
            try {
                return TokenBinding.bind(prompt, new RelationTriplet(subject, relation, object, 0, occurrence));
            } catch (IllegalArgumentException e) {
                if (last != null && e.getMessage().contains("cannot bind the object")) {
                    throw last;
                }
                last = e;
            }
        }
        throw last;
    }

    // ---------------------------------------------------------------- one triplet

    private static final class Pending {
        final int id;
        int samples;
        int inversions;
        int dropped;
        double[] psnrs = new double[0];
        String failure;

        Pending(int id) {
            this.id = id;
        }
    }

    private Pending process(Triplet t, List<Sample> buffer) {
        Pending p = new Pending(t.id());
        BufferedImage image;
        try {
            image = ImageIO.read(t.record().image().toFile());
        } catch (IOException | RuntimeException e) {
            image = null;
        }
        if (image == null) {
            p.failure = BUILD_UNREADABLE_IMAGE + ": " + t.record().image();
            return p;
        }
        EncodedImage encoded = inversion.encode(image);
        p.psnrs = new double[t.prompts().size()];
        for (int i = 0; i < t.prompts().size(); i++) {
            PromptSpec spec = t.prompts().get(i);
            Inverted inverted = inversion.invert(encoded, spec.text());
            Recorder recorder = new Recorder(spec);
            Reconstruction rec = inversion.reconstruct(inverted, recorder);
            p.inversions++;
            p.psnrs[i] = rec.psnr();
            if (!(rec.psnr() >= psnrThreshold)) {
                p.dropped++;
                continue;
            }
            for (int j = 0; j < classifierIndices.length; j++) {
                float[] maps = recorder.maps[j];
                if (maps == null) {
                    throw new IllegalStateException("no maps were recorded at step " + stepOfIndex[j]);
                }
                buffer.add(new Sample(maps, classifierIndices[j], t.record().relation().ordinal(), spec.relation().ordinal(),
                        spec.positive(), t.id()));
                p.samples++;
            }
        }
        return p;
    }

    /** Records the two words' classifier input at the chosen steps. */
    private final class Recorder implements StepObserver {
        private final PromptSpec spec;
        final float[][] maps = new float[classifierIndices.length][];

        Recorder(PromptSpec spec) {
            this.spec = spec;
        }

        private int slot(int step) {
            for (int j = 0; j < stepOfIndex.length; j++) {
                if (stepOfIndex[j] == step) {
                    return j;
                }
            }
            return -1;
        }

        @Override
        public List<int[]> probeWords(int step) {
            return slot(step) < 0 ? null : List.of(spec.subject(), spec.object());
        }

        @Override
        public void onStep(int step, float[] latents, float[] guidedPrediction, float[] classifierInput, Schedule schedule) {
            int j = slot(step);
            if (classifierInput.length != 2 * mapsPerWord * MAP_SIZE * MAP_SIZE) {
                throw new IllegalStateException("expected " + mapsPerWord + " maps per word, the probe gave "
                        + classifierInput.length / (2 * MAP_SIZE * MAP_SIZE));
            }
            maps[j] = classifierInput;
        }
    }

    // ---------------------------------------------------------------- output

    /**
     * Writes every buffered sample as one shard (if any), marks the pending triplets completed, and
     * writes the manifest; returns the number of samples written. Shards hold whole triplets only, so
     * a crash never leaves samples of an uncompleted triplet in a listed shard.
     */
    private int flush(State state, List<Sample> buffer, List<Pending> pending, RecordReport report) throws IOException {
        int count = buffer.size();
        if (count > 0) {
            String name = String.format(Locale.ROOT, "shard-%05d.safetensors", state.shards.size());
            ShardWriter.write(out.resolve(name), buffer, mapsPerWord, MAP_SIZE);
            state.shards.add(new ShardEntry(name, count));
            buffer.clear();
        }
        for (Pending p : pending) {
            state.completed.add(p.id);
            state.dropped += p.dropped;
            state.inversions += p.inversions;
            for (double v : p.psnrs) {
                if (Double.isFinite(v)) {
                    state.psnrSum += v;
                    state.psnrCount++;
                }
            }
            if (p.failure != null) {
                state.buildFailures.merge(BUILD_UNREADABLE_IMAGE, 1, Integer::sum);
            }
        }
        pending.clear();
        writeManifest(state, report);
        return count;
    }

    private record ShardEntry(String file, int samples) {
    }

    /** What the manifest records across runs. */
    private static final class State {
        final List<ShardEntry> shards = new ArrayList<>();
        final TreeSet<Integer> completed = new TreeSet<>();
        final Map<String, Integer> buildFailures = new LinkedHashMap<>();
        int dropped;
        int inversions;
        double psnrSum;
        int psnrCount;

        static State load(Path out, RelationDatasetBuilder b, List<Triplet> triplets) throws IOException {
            State s = new State();
            Path manifest = out.resolve("manifest.json");
            if (!Files.exists(manifest)) {
                try (var files = Files.list(out)) {
                    List<String> foreign = files.map(f -> f.getFileName().toString())
                            .filter(n -> !SHARD.matcher(n).matches() && !Set.of("triplets.jsonl", "triplets.jsonl.tmp", "skipped.jsonl",
                                    "skipped.jsonl.tmp", "manifest.json.tmp").contains(n))
                            .sorted().toList();
                    if (!foreign.isEmpty()) {
                        throw new IllegalStateException("output folder " + out + " is not empty and holds no manifest.json (found "
                                + foreign + "): choose an empty or new folder");
                    }
                }
                return s;
            }
            JsonObject m;
            try {
                m = JsonParser.parseString(Files.readString(manifest)).getAsJsonObject();
            } catch (JsonParseException | IllegalStateException e) {
                throw new IllegalStateException(manifest + " is not a dataset manifest: " + e.getMessage(), e);
            }
            JsonObject expected = b.settings();
            List<String> differences = new ArrayList<>();
            for (Map.Entry<String, JsonElement> e : expected.entrySet()) {
                JsonElement have = m.get(e.getKey());
                if (!e.getValue().equals(have)) {
                    differences.add(e.getKey() + ": dataset has " + have + ", this build " + e.getValue());
                }
            }
            if (!differences.isEmpty()) {
                throw new IllegalStateException(out + " was built with other settings, so it cannot be resumed: " + differences
                        + "; use a new output folder (or the same settings)");
            }
            for (JsonElement e : m.getAsJsonArray("shards")) {
                JsonObject o = e.getAsJsonObject();
                String file = o.get("file").getAsString();
                if (!Files.isRegularFile(out.resolve(file))) {
                    throw new IllegalStateException(out + "/manifest.json lists " + file + " but it is missing");
                }
                s.shards.add(new ShardEntry(file, o.get("samples").getAsInt()));
            }
            for (JsonElement e : m.getAsJsonArray("completed_triplets")) {
                s.completed.add(e.getAsInt());
            }
            JsonObject r = m.getAsJsonObject("report");
            s.dropped = r.get("dropped_low_psnr").getAsInt();
            s.inversions = r.has("inversions") ? r.get("inversions").getAsInt() : 0;
            if (r.has("mean_psnr_db") && r.get("mean_psnr_db").isJsonPrimitive() && s.inversions > 0) {
                s.psnrCount = r.has("psnr_count") ? r.get("psnr_count").getAsInt() : s.inversions;
                s.psnrSum = r.get("mean_psnr_db").getAsDouble() * s.psnrCount;
            }
            if (r.has("build_failures")) {
                for (Map.Entry<String, JsonElement> e : r.getAsJsonObject("build_failures").entrySet()) {
                    s.buildFailures.put(e.getKey(), e.getValue().getAsInt());
                }
            }
            // the inputs must not have changed for the completed triplets
            Path tripletsFile = out.resolve("triplets.jsonl");
            if (!s.completed.isEmpty()) {
                List<String> before = Files.exists(tripletsFile) ? Files.readAllLines(tripletsFile, StandardCharsets.UTF_8) : List.of();
                for (int id : s.completed) {
                    String now = id < triplets.size() ? tripletLine(triplets.get(id)) : null;
                    String was = id < before.size() ? before.get(id) : null;
                    if (now == null || !now.equals(was)) {
                        throw new IllegalStateException("the inputs changed since " + out + " was started: completed triplet " + id
                                + " was " + was + ", now " + now + "; use a new output folder");
                    }
                }
            }
            return s;
        }
    }

    /** The settings a resumed build must share with the dataset (top-level manifest keys). */
    private JsonObject settings() {
        JsonObject o = new JsonObject();
        o.addProperty("format", FORMAT);
        o.addProperty("version", VERSION);
        o.addProperty("model", model);
        o.addProperty("maps_per_word", mapsPerWord);
        o.addProperty("map_size", MAP_SIZE);
        JsonArray idx = new JsonArray();
        for (int k : classifierIndices) {
            idx.add(k);
        }
        o.add("step_indices", idx);
        JsonArray rel = new JsonArray();
        for (SpatialRelation r : RELATIONS) {
            rel.add(r.canonicalName());
        }
        o.add("relations", rel);
        JsonObject inv = new JsonObject();
        inv.addProperty("steps", inversion.steps());
        inv.addProperty("fixed_point_iterations", inversion.fixedPointIterations());
        inv.addProperty("guidance", 1.0);
        inv.addProperty("psnr_threshold_db", psnrThreshold);
        inv.addProperty("image_fit", inversion.imageFit().name().toLowerCase(Locale.ROOT));
        inv.addProperty("size", inversion.width() + "x" + inversion.height());
        o.add("inversion", inv);
        JsonObject prompts = new JsonObject();
        prompts.addProperty("template", PROMPT_TEMPLATE);
        prompts.addProperty("negatives_per_triplet", negatives);
        prompts.addProperty("negative_seed", seed);
        o.add("prompts", prompts);
        return o;
    }

    private void writeManifest(State state, RecordReport report) throws IOException {
        JsonObject m = settings();
        JsonArray shards = new JsonArray();
        for (ShardEntry s : state.shards) {
            JsonObject o = new JsonObject();
            o.addProperty("file", s.file());
            o.addProperty("samples", s.samples());
            shards.add(o);
        }
        m.add("shards", shards);
        JsonArray done = new JsonArray();
        for (int id : state.completed) {
            done.add(id);
        }
        m.add("completed_triplets", done);
        JsonObject r = new JsonObject();
        r.addProperty("records", report.records());
        r.addProperty("kept", report.kept());
        JsonObject skipped = new JsonObject();
        report.skipped().forEach(skipped::addProperty);
        r.add("skipped", skipped);
        r.addProperty("dropped_low_psnr", state.dropped);
        r.addProperty("inversions", state.inversions);
        if (state.psnrCount > 0) {
            r.addProperty("mean_psnr_db", Math.round(state.psnrSum / state.psnrCount * 1e4) / 1e4);
            r.addProperty("psnr_count", state.psnrCount);
        }
        JsonObject failures = new JsonObject();
        state.buildFailures.forEach(failures::addProperty);
        r.add("build_failures", failures);
        m.add("report", r);
        StringBuilder text = new StringBuilder();
        pretty(m, "", text);
        writeAtomically(out.resolve("manifest.json"), text.append('\n').toString());
    }

    /** Indented JSON with arrays of numbers and strings on one line (completed_triplets may be long). */
    private static void pretty(JsonElement e, String indent, StringBuilder sb) {
        if (e.isJsonObject()) {
            if (e.getAsJsonObject().size() == 0) {
                sb.append("{}");
                return;
            }
            sb.append("{\n");
            String inner = indent + "  ";
            boolean first = true;
            for (Map.Entry<String, JsonElement> entry : e.getAsJsonObject().entrySet()) {
                sb.append(first ? "" : ",\n").append(inner).append(LINE.toJson(entry.getKey())).append(": ");
                pretty(entry.getValue(), inner, sb);
                first = false;
            }
            sb.append('\n').append(indent).append('}');
        } else if (e.isJsonArray() && e.getAsJsonArray().size() > 0 && !allPrimitive(e.getAsJsonArray())) {
            sb.append("[\n");
            String inner = indent + "  ";
            boolean first = true;
            for (JsonElement x : e.getAsJsonArray()) {
                sb.append(first ? "" : ",\n").append(inner);
                pretty(x, inner, sb);
                first = false;
            }
            sb.append('\n').append(indent).append(']');
        } else if (e.isJsonArray()) {
            StringBuilder line = new StringBuilder("[");
            boolean first = true;
            for (JsonElement x : e.getAsJsonArray()) {
                line.append(first ? "" : ", ").append(LINE.toJson(x));
                first = false;
            }
            sb.append(line).append(']');
        } else {
            sb.append(LINE.toJson(e));
        }
    }

    private static boolean allPrimitive(JsonArray a) {
        for (JsonElement x : a) {
            if (!x.isJsonPrimitive()) {
                return false;
            }
        }
        return true;
    }

    private static String tripletLine(Triplet t) {
        JsonObject o = new JsonObject();
        o.addProperty("id", t.id());
        o.addProperty("image", t.record().image().toString());
        o.addProperty("subject", t.record().subject());
        o.addProperty("object", t.record().object());
        o.addProperty("relation", t.record().relation().canonicalName());
        o.addProperty("source", t.record().source());
        return LINE.toJson(o);
    }

    private void writeTriplets(List<Triplet> triplets) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Triplet t : triplets) {
            sb.append(tripletLine(t)).append('\n');
        }
        writeAtomically(out.resolve("triplets.jsonl"), sb.toString());
    }

    private void writeSkipped(RecordReport report) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (RecordReport.Skip s : report.examples()) {
            JsonObject o = new JsonObject();
            o.addProperty("reason", s.reason());
            o.addProperty("source", s.source());
            o.addProperty("detail", s.detail());
            sb.append(LINE.toJson(o)).append('\n');
        }
        writeAtomically(out.resolve("skipped.jsonl"), sb.toString());
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            w.write(text);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void log(java.util.function.Supplier<String> line) {
        if (progress != null) {
            progress.println(line.get());
            progress.flush();
        } else if (LOG.isInfoEnabled()) {
            LOG.info(line.get());
        }
    }

    private void progressLine(int processed, int todo, int before, int total, long samples, int dropped, double psnrSum, int psnrCount,
            long nanos) {
        double perTriplet = nanos / 1e9 / Math.max(1, processed);
        int remaining = todo - processed;
        String eta = remaining <= 0 ? "done" : "ETA " + duration(remaining * perTriplet);
        int done = before + processed;
        log(() -> String.format(Locale.ROOT, "relation dataset: %d/%d triplets (%.1f%%), %d samples this run, %d inversions under %.1f dB, "
                + "mean PSNR %.2f dB, %.2f s/triplet, %s", done, total, total == 0 ? 100.0 : 100.0 * done / total, samples, dropped,
                psnrThreshold, psnrCount == 0 ? Double.NaN : psnrSum / psnrCount, perTriplet, eta));
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return (s / 60) + "m " + (s % 60) + "s";
        }
        return (s / 3600) + "h " + (s % 3600 / 60) + "m";
    }

    /**
     * Configures a {@link RelationDatasetBuilder}, in the style of DJL's {@code Criteria}: the pipeline,
     * the output folder and at least one input are required ({@code set*}/{@code add*}); the rest are
     * options ({@code opt*}) with the reference's defaults.
     */
    public static final class Builder {
        private StableDiffusion pipeline;
        private FluxPipeline flux;
        private Path outputDir;
        private final List<Source> sources = new ArrayList<>();
        private int steps = 50;
        private int iterations = 5;
        private double psnrThreshold = 19.5;
        private int negatives = 1;
        private int[] stepIndices = ClassifierTimesteps.TRAINED.clone();
        private int shardSize = 512;
        private RecordFilters filters = RecordFilters.DEFAULTS;
        private ImageFit fit = ImageFit.STRETCH;
        private long seed;
        private int maxTriplets;
        private int stopAfter;
        private PrintStream progress;
        private Duration progressInterval = Duration.ofSeconds(10);
        private TripletListener listener;
        private String model;

        private Builder() {
        }

        /** The Stable Diffusion model whose attention maps are recorded, inverted with DDIM (this or a FLUX pipeline is required). */
        public Builder setPipeline(StableDiffusion pipeline) {
            this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
            this.flux = null;
            return this;
        }

        /** The FLUX model whose attention maps are recorded, inverted along its flow ({@link FlowMatchInversion}). */
        public Builder setPipeline(FluxPipeline pipeline) {
            this.flux = Objects.requireNonNull(pipeline, "pipeline");
            this.pipeline = null;
            return this;
        }

        /** The dataset folder: created if needed; resumed if it holds a dataset (required). */
        public Builder setOutputDir(Path dir) {
            this.outputDir = dir;
            return this;
        }

        /** Adds a JSON Lines manifest (see {@link RelationSources#readManifest}). */
        public Builder addManifest(Path manifest) {
            sources.add(new Source("manifest", Objects.requireNonNull(manifest), null, null));
            return this;
        }

        /** Adds GQA-style scene graphs whose images are {@code imagesDir/<imageId>.jpg} (see {@link RelationSources#readGqa}). */
        public Builder addGqa(Path sceneGraphs, Path imagesDir) {
            sources.add(new Source("gqa", Objects.requireNonNull(sceneGraphs), Objects.requireNonNull(imagesDir), null));
            return this;
        }

        /** Adds COCO instance annotations whose images are {@code imagesDir/<file_name>} (see {@link RelationSources#readCoco}). */
        public Builder addCoco(Path instances, Path imagesDir) {
            sources.add(new Source("coco", Objects.requireNonNull(instances), Objects.requireNonNull(imagesDir), null));
            return this;
        }

        /** Adds records made elsewhere (their images must exist). */
        public Builder addRecords(List<RelationRecord> records) {
            sources.add(new Source("records", null, null, List.copyOf(records)));
            return this;
        }

        /** DDIM steps of inversion and re-denoising (default 50). */
        public Builder optSteps(int steps) {
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be >= 1, got " + steps);
            }
            this.steps = steps;
            return this;
        }

        /** Fixed-point iterations per inversion step (default 5). */
        public Builder optFixedPointIterations(int iterations) {
            if (iterations < 0) {
                throw new IllegalArgumentException("fixed-point iterations must be >= 0, got " + iterations);
            }
            this.iterations = iterations;
            return this;
        }

        /** Inversions whose reconstruction PSNR is under this many dB are dropped (default 19.5). */
        public Builder optPsnrThreshold(double db) {
            if (Double.isNaN(db)) {
                throw new IllegalArgumentException("the PSNR threshold must be a number");
            }
            this.psnrThreshold = db;
            return this;
        }

        /** Negative prompts per triplet, each with a different wrong relation (0 to 3; default 1). */
        public Builder optNegativesPerTriplet(int n) {
            if (n < 0 || n > RELATIONS.size() - 1) {
                throw new IllegalArgumentException("negatives per triplet must be in [0, " + (RELATIONS.size() - 1) + "], got " + n);
            }
            this.negatives = n;
            return this;
        }

        /** The classifier step indices (of a 50-step schedule) to record (default 5, 10, 15, 20, 25, 49). */
        public Builder optStepIndices(int... indices) {
            if (indices.length == 0) {
                throw new IllegalArgumentException("give at least one step index");
            }
            for (int k : indices) {
                if (k < 0 || k >= 50) {
                    throw new IllegalArgumentException("classifier step indices are in [0, 50), got " + k);
                }
            }
            this.stepIndices = indices.clone();
            return this;
        }

        /** Samples per shard (default 512): a shard is written once this many are waiting, whole triplets only. */
        public Builder optShardSize(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("shard size must be >= 1, got " + n);
            }
            this.shardSize = n;
            return this;
        }

        /** Record filters for the readers (default {@link RecordFilters#DEFAULTS}). */
        public Builder optFilters(RecordFilters filters) {
            this.filters = Objects.requireNonNull(filters, "filters");
            return this;
        }

        /** How images are fitted to the model size (default stretch: nothing is cut off). */
        public Builder optImageFit(ImageFit fit) {
            this.fit = Objects.requireNonNull(fit, "fit");
            return this;
        }

        /** Seed of the choice of wrong relations for the negative prompts (default 0). */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Uses only the first {@code n} valid records as triplets (default: all). */
        public Builder optMaxTriplets(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("max triplets must be >= 0 (0: all), got " + n);
            }
            this.maxTriplets = n;
            return this;
        }

        /** Stops this run after processing {@code n} triplets, writing what is complete (default: no limit). */
        public Builder optStopAfter(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("stop-after must be >= 0 (0: no limit), got " + n);
            }
            this.stopAfter = n;
            return this;
        }

        /** Where the input report and the progress lines go (default: the SLF4J logger {@code dev.steer.pytorch.dataset.RelationDatasetBuilder} at INFO). */
        public Builder optProgress(PrintStream stream) {
            this.progress = stream;
            return this;
        }

        /** At most one progress line per this interval (default 10 s), plus the last. */
        public Builder optProgressInterval(Duration interval) {
            this.progressInterval = Objects.requireNonNull(interval, "interval");
            return this;
        }

        /** Hears about each processed triplet. */
        public Builder optListener(TripletListener listener) {
            this.listener = listener;
            return this;
        }

        /** The manifest's {@code model} text (default: the pipeline's description). */
        public Builder optModelDescription(String model) {
            this.model = model;
            return this;
        }

        /**
         * Builds the configured dataset builder.
         *
         * @throws IllegalStateException when the pipeline, the output folder or every input is missing
         * @throws IllegalArgumentException when two step indices fall on the same denoising step
         */
        public RelationDatasetBuilder build() {
            if (pipeline == null && flux == null) {
                throw new IllegalStateException("setPipeline(...) is required");
            }
            if (outputDir == null) {
                throw new IllegalStateException("setOutputDir(...) is required");
            }
            if (sources.isEmpty()) {
                throw new IllegalStateException("add at least one input: addManifest, addGqa, addCoco or addRecords");
            }
            return new RelationDatasetBuilder(this);
        }
    }
}
