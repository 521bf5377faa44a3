package dev.steer.pytorch.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.steer.core.internal.weights.HalfFloats;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.TensorDType;
import dev.steer.core.internal.weights.TensorInfo;
import dev.steer.core.weights.WeightsFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A relation dataset read from its folder (the format of {@code docs/relation-dataset.md}):
 * {@code manifest.json} and the safetensors shards it lists.
 *
 * <p>The small per-sample tensors ({@code timestep}, {@code label}, {@code prompt_relation},
 * {@code positive}, {@code triplet}) are read into the heap; the maps stay in the shard files,
 * memory-mapped, and are copied out batch by batch, so a dataset larger than the heap trains.
 * Everything is validated on {@link #open}: the manifest's keys, every shard's tensor names,
 * dtypes and shapes, the sample counts, and every index's range; a problem is reported as a
 * {@link RelationDatasetException} naming the file.
 *
 * <p>Samples are addressed by their index in shard order. {@link #split} divides the dataset
 * into training, validation and test {@link Subset}s by source triplet (all samples of a
 * triplet, at every step index and with either prompt, land in the same subset), and a subset
 * yields {@link Batch}es in an order shuffled from a seed.
 */
public final class RelationDataset {
    /** The {@code format} value of a manifest. */
    public static final String FORMAT = "steer-relation-dataset";
    /** The manifest version this reader understands. */
    public static final int VERSION = 1;
    /** The manifest's file name. */
    public static final String MANIFEST = "manifest.json";

    private final Path directory;
    private final String model;
    private final int mapsPerWord;
    private final int mapSize;
    private final List<Integer> stepIndices;
    private final List<String> relations;
    private final List<MappedShard> shards;
    private final int[] shardOf;
    private final int[] rowOf;
    private final long[] timestep;
    private final int[] label;
    private final int[] promptRelation;
    private final boolean[] positive;
    private final long[] triplet;

    private record MappedShard(Path file, ByteBuffer maps, TensorDType dtype) {
    }

    private RelationDataset(Path directory, String model, int mapsPerWord, int mapSize, List<Integer> stepIndices, List<String> relations,
            List<MappedShard> shards, int[] shardOf, int[] rowOf, long[] timestep, int[] label, int[] promptRelation, boolean[] positive,
            long[] triplet) {
        this.directory = directory;
        this.model = model;
        this.mapsPerWord = mapsPerWord;
        this.mapSize = mapSize;
        this.stepIndices = List.copyOf(stepIndices);
        this.relations = List.copyOf(relations);
        this.shards = shards;
        this.shardOf = shardOf;
        this.rowOf = rowOf;
        this.timestep = timestep;
        this.label = label;
        this.promptRelation = promptRelation;
        this.positive = positive;
        this.triplet = triplet;
    }

    // ---- reading

    /**
     * Opens a dataset folder: reads and checks {@code manifest.json} and every shard it lists.
     *
     * @throws RelationDatasetException naming the file and the problem
     */
    public static RelationDataset open(Path directory) {
        Path manifestFile = directory.resolve(MANIFEST);
        JsonObject manifest = readManifest(manifestFile);
        String format = string(manifestFile, manifest, "format");
        if (!FORMAT.equals(format)) {
            throw new RelationDatasetException(manifestFile, "'format' is '" + format + "', not '" + FORMAT + "'");
        }
        int version = integer(manifestFile, manifest, "version");
        if (version != VERSION) {
            throw new RelationDatasetException(manifestFile, "version " + version + " is not supported (this reader reads version "
                    + VERSION + ")");
        }
        String model = manifest.has("model") && manifest.get("model").isJsonPrimitive() ? manifest.get("model").getAsString() : "";
        int n = integer(manifestFile, manifest, "maps_per_word");
        int side = integer(manifestFile, manifest, "map_size");
        if (n < 1 || side < 1) {
            throw new RelationDatasetException(manifestFile, "'maps_per_word' and 'map_size' must be positive, got " + n + " and " + side);
        }
        List<Integer> steps = new ArrayList<>();
        for (JsonElement e : array(manifestFile, manifest, "step_indices")) {
            steps.add(asInt(manifestFile, "step_indices", e));
        }
        List<String> relations = new ArrayList<>();
        for (JsonElement e : array(manifestFile, manifest, "relations")) {
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                throw new RelationDatasetException(manifestFile, "'relations' must be a list of strings, has " + e);
            }
            relations.add(e.getAsString());
        }
        if (relations.isEmpty() || new HashSet<>(relations).size() != relations.size()) {
            throw new RelationDatasetException(manifestFile, "'relations' must be distinct and non-empty: " + relations);
        }
        List<String> files = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (JsonElement e : array(manifestFile, manifest, "shards")) {
            if (!e.isJsonObject()) {
                throw new RelationDatasetException(manifestFile, "each entry of 'shards' must be {\"file\": ..., \"samples\": ...}, has " + e);
            }
            String file = string(manifestFile, e.getAsJsonObject(), "file");
            if (file.contains("/") || file.contains("\\") || file.startsWith(".")) {
                throw new RelationDatasetException(manifestFile, "shard file name '" + file + "' must be a plain name inside the folder");
            }
            files.add(file);
            counts.add(integer(manifestFile, e.getAsJsonObject(), "samples"));
        }
        long total = counts.stream().mapToLong(Integer::longValue).sum();
        if (total > Integer.MAX_VALUE - 8) {
            throw new RelationDatasetException(manifestFile, "holds " + total + " samples; at most " + (Integer.MAX_VALUE - 8)
                    + " are supported");
        }
        int size = (int) total;
        int[] shardOf = new int[size];
        int[] rowOf = new int[size];
        long[] timestep = new long[size];
        int[] label = new int[size];
        int[] prompt = new int[size];
        boolean[] positive = new boolean[size];
        long[] triplet = new long[size];
        List<MappedShard> shards = new ArrayList<>();
        int at = 0;
        for (int s = 0; s < files.size(); s++) {
            Path file = directory.resolve(files.get(s));
            int k = counts.get(s);
            if (!Files.isRegularFile(file)) {
                throw new RelationDatasetException(file, "shard listed in " + MANIFEST + " is missing");
            }
            try (SafetensorsFile st = SafetensorsFile.open(file)) {
                TensorInfo maps = tensor(st, "maps", k, 2, n, side, side);
                if (!maps.dtype().isFloating() || maps.dtype() == TensorDType.F64) {
                    throw new RelationDatasetException(file, "tensor 'maps' has dtype " + maps.dtype() + "; F32, F16 or BF16 expected");
                }
                long[] ts = longs(st, "timestep", k);
                long[] lb = longs(st, "label", k);
                long[] pr = longs(st, "prompt_relation", k);
                long[] pos = longs(st, "positive", k);
                long[] tr = longs(st, "triplet", k);
                for (int i = 0; i < k; i++) {
                    checkIndex(file, "label", i, lb[i], relations.size());
                    checkIndex(file, "prompt_relation", i, pr[i], relations.size());
                    if (pos[i] != 0 && pos[i] != 1) {
                        throw new RelationDatasetException(file, "'positive' of sample " + i + " is " + pos[i] + ", not 0 or 1");
                    }
                    if (ts[i] < 0) {
                        throw new RelationDatasetException(file, "'timestep' of sample " + i + " is negative: " + ts[i]);
                    }
                    shardOf[at] = s;
                    rowOf[at] = i;
                    timestep[at] = ts[i];
                    label[at] = (int) lb[i];
                    prompt[at] = (int) pr[i];
                    positive[at] = pos[i] == 1;
                    triplet[at] = tr[i];
                    at++;
                }
                shards.add(new MappedShard(file, st.map("maps"), maps.dtype()));
            } catch (WeightsFormatException e) {
                throw new RelationDatasetException(e.getMessage(), e);
            }
        }
        return new RelationDataset(directory, model, n, side, steps, relations, shards, shardOf, rowOf, timestep, label, prompt, positive,
                triplet);
    }

    private static JsonObject readManifest(Path file) {
        try {
            if (Files.size(file) > (64L << 20)) {
                throw new RelationDatasetException(file, "is larger than 64 MB: not a dataset manifest");
            }
            JsonElement root = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
            if (!root.isJsonObject()) {
                throw new RelationDatasetException(file, "is not a JSON object");
            }
            return root.getAsJsonObject();
        } catch (NoSuchFileException e) {
            throw new RelationDatasetException(file, "not found: not a relation dataset folder");
        } catch (IOException e) {
            throw new RelationDatasetException(file, "cannot read: " + e.getMessage());
        } catch (JsonParseException e) {
            throw new RelationDatasetException(file, "is not valid JSON: " + e.getMessage());
        }
    }

    private static JsonElement member(Path file, JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            throw new RelationDatasetException(file, "missing required key '" + key + "'");
        }
        return e;
    }

    private static String string(Path file, JsonObject o, String key) {
        JsonElement e = member(file, o, key);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new RelationDatasetException(file, "'" + key + "' should be a string, found " + e);
        }
        return e.getAsString();
    }

    private static int integer(Path file, JsonObject o, String key) {
        return asInt(file, key, member(file, o, key));
    }

    private static int asInt(Path file, String key, JsonElement e) {
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            double d = e.getAsDouble();
            if (d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE) {
                return (int) d;
            }
        }
        throw new RelationDatasetException(file, "'" + key + "' should hold integers, found " + e);
    }

    private static JsonArray array(Path file, JsonObject o, String key) {
        JsonElement e = member(file, o, key);
        if (!e.isJsonArray()) {
            throw new RelationDatasetException(file, "'" + key + "' should be a list, found " + e);
        }
        return e.getAsJsonArray();
    }

    private static TensorInfo tensor(SafetensorsFile st, String name, long... shape) {
        if (!st.contains(name)) {
            throw new RelationDatasetException(st.path(), "shard has no tensor '" + name + "' (has " + st.tensors().keySet() + ")");
        }
        TensorInfo info = st.info(name);
        if (!Arrays.equals(info.shape(), shape)) {
            throw new RelationDatasetException(st.path(), "tensor '" + name + "' has shape " + Arrays.toString(info.shape()) + ", expected "
                    + Arrays.toString(shape) + " (from the manifest's sample count, maps_per_word and map_size)");
        }
        return info;
    }

    private static long[] longs(SafetensorsFile st, String name, int k) {
        TensorInfo info = tensor(st, name, k);
        if (info.dtype().isFloating()) {
            throw new RelationDatasetException(st.path(), "tensor '" + name + "' has dtype " + info.dtype() + "; an integer type expected");
        }
        return st.readLongs(name);
    }

    private static void checkIndex(Path file, String name, int sample, long value, int classes) {
        if (value < 0 || value >= classes) {
            throw new RelationDatasetException(file, "'" + name + "' of sample " + sample + " is " + value + ", outside the " + classes
                    + " relations of the manifest");
        }
    }

    // ---- description

    /** The folder the dataset was read from. */
    public Path directory() {
        return directory;
    }

    /** The manifest's free-text model description. */
    public String model() {
        return model;
    }

    /** Maps per word ({@code N}). */
    public int mapsPerWord() {
        return mapsPerWord;
    }

    /** Side of the square maps (16). */
    public int mapSize() {
        return mapSize;
    }

    /** Values of one sample's maps: {@code 2 * N * map_size^2}. */
    public int sampleValues() {
        return 2 * mapsPerWord * mapSize * mapSize;
    }

    /** The classifier step indices the maps were recorded at. */
    public List<Integer> stepIndices() {
        return stepIndices;
    }

    /** Relation names by label index (the classifier's classes). */
    public List<String> relations() {
        return relations;
    }

    /** Number of samples. */
    public int size() {
        return label.length;
    }

    /** Label (index of the true relation) of a sample. */
    public int label(int sample) {
        return label[sample];
    }

    /** Index of the relation written in the sample's prompt. */
    public int promptRelation(int sample) {
        return promptRelation[sample];
    }

    /** Classifier timestep index of a sample. */
    public long timestep(int sample) {
        return timestep[sample];
    }

    /** True when the sample's prompt states the true relation; false for a dual-inversion negative. */
    public boolean positive(int sample) {
        return positive[sample];
    }

    /** Source triplet id of a sample. */
    public long triplet(int sample) {
        return triplet[sample];
    }

    /** The distinct triplet ids, ascending. */
    public long[] tripletIds() {
        return new TreeSet<>(box(triplet)).stream().mapToLong(Long::longValue).toArray();
    }

    private static List<Long> box(long[] values) {
        List<Long> out = new ArrayList<>(values.length);
        for (long v : values) {
            out.add(v);
        }
        return out;
    }

    @Override
    public String toString() {
        int pos = 0;
        for (boolean p : positive) {
            pos += p ? 1 : 0;
        }
        return "relation dataset " + directory + ": " + size() + " samples (" + pos + " positive, " + (size() - pos) + " negative) of "
                + tripletIds().length + " triplets, " + mapsPerWord + " maps per word, relations " + relations;
    }

    // ---- samples

    /**
     * Copies one sample's maps ({@code [2, N, side, side]}, row-major, as float) into {@code dest} at {@code offset}.
     */
    public void readMaps(int sample, float[] dest, int offset) {
        MappedShard shard = shards.get(shardOf[sample]);
        int values = sampleValues();
        ByteBuffer buf = shard.maps();
        long first = (long) rowOf[sample] * values;
        switch (shard.dtype()) {
            case F32 -> buf.slice(Math.toIntExact(first * 4), values * 4).order(buf.order()).asFloatBuffer().get(dest, offset, values);
            case F16 -> {
                int base = Math.toIntExact(first * 2);
                for (int i = 0; i < values; i++) {
                    dest[offset + i] = HalfFloats.halfToFloat(buf.getShort(base + 2 * i));
                }
            }
            case BF16 -> {
                int base = Math.toIntExact(first * 2);
                for (int i = 0; i < values; i++) {
                    dest[offset + i] = Float.intBitsToFloat((buf.getShort(base + 2 * i) & 0xffff) << 16);
                }
            }
            default -> throw new IllegalStateException("unreachable dtype " + shard.dtype());
        }
    }

    /** Reads the samples at {@code indices} (dataset indices) into one batch. */
    public Batch batch(int[] indices) {
        int values = sampleValues();
        float[] maps = new float[Math.multiplyExact(indices.length, values)];
        long[] ts = new long[indices.length];
        long[] labels = new long[indices.length];
        long[] prompts = new long[indices.length];
        boolean[] pos = new boolean[indices.length];
        for (int i = 0; i < indices.length; i++) {
            int s = indices[i];
            readMaps(s, maps, i * values);
            ts[i] = timestep[s];
            labels[i] = label[s];
            prompts[i] = promptRelation[s];
            pos[i] = positive[s];
        }
        return new Batch(indices.clone(), maps, new long[] {indices.length, 2, mapsPerWord, mapSize, mapSize}, ts, labels, prompts, pos);
    }

    /** Every sample, in dataset order. */
    public Subset all() {
        int[] idx = new int[size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        return new Subset(this, idx);
    }

    /**
     * Splits the dataset by triplet: the distinct triplet ids are shuffled with {@code seed} and
     * cut into a training part ({@code trainRatio} of the triplets), a validation part
     * ({@code validationRatio}) and a test part (the rest). When there are at least three triplets
     * each part gets at least one. The same dataset, seed and ratios always give the same split.
     *
     * @throws IllegalArgumentException when the ratios are negative or sum to more than 1
     */
    public Split split(long seed, double trainRatio, double validationRatio) {
        if (!(trainRatio > 0) || !(validationRatio >= 0) || trainRatio + validationRatio > 1 + 1e-9) {
            throw new IllegalArgumentException("split ratios must be train > 0, validation >= 0, train + validation <= 1; got " + trainRatio
                    + " and " + validationRatio);
        }
        long[] ids = tripletIds();
        shuffle(ids, new SplittableRandom(seed));
        int t = ids.length;
        int nTrain = (int) Math.round(trainRatio * t);
        int nVal = (int) Math.round(validationRatio * t);
        double testRatio = 1 - trainRatio - validationRatio;
        if (t >= 3) {
            nVal = Math.max(nVal, validationRatio > 0 ? 1 : 0);
            int nTest = Math.max(t - nTrain - nVal, testRatio > 1e-9 ? 1 : 0);
            nTrain = Math.max(1, t - nVal - nTest);
        }
        nTrain = Math.min(nTrain, t);
        nVal = Math.min(nVal, t - nTrain);
        Set<Long> trainIds = new HashSet<>();
        Set<Long> valIds = new HashSet<>();
        for (int i = 0; i < t; i++) {
            (i < nTrain ? trainIds : i < nTrain + nVal ? valIds : new HashSet<Long>()).add(ids[i]);
        }
        List<Integer> train = new ArrayList<>();
        List<Integer> val = new ArrayList<>();
        List<Integer> test = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            (trainIds.contains(triplet[i]) ? train : valIds.contains(triplet[i]) ? val : test).add(i);
        }
        return new Split(new Subset(this, toArray(train)), new Subset(this, toArray(val)), new Subset(this, toArray(test)));
    }

    private static int[] toArray(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void shuffle(long[] a, SplittableRandom rnd) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            long x = a[i];
            a[i] = a[j];
            a[j] = x;
        }
    }

    private static void shuffle(int[] a, SplittableRandom rnd) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int x = a[i];
            a[i] = a[j];
            a[j] = x;
        }
    }

    // ---- types

    /**
     * The three parts of a split by triplet.
     *
     * @param train samples to train on
     * @param validation samples for the learning-rate schedule, early stopping and choosing the best checkpoint
     * @param test held-out samples for the final evaluation
     */
    public record Split(Subset train, Subset validation, Subset test) {
    }

    /**
     * One batch read from the shards.
     *
     * @param samples the dataset indices of the samples, in batch order
     * @param maps the maps, row-major {@code [B, 2, N, side, side]}
     * @param shape the maps' shape
     * @param timesteps the timestep indices {@code [B]}
     * @param labels the true relations {@code [B]}
     * @param promptRelations the relations written in the prompts {@code [B]}
     * @param positive whether each prompt states the true relation
     */
    public record Batch(int[] samples, float[] maps, long[] shape, long[] timesteps, long[] labels, long[] promptRelations,
            boolean[] positive) {
        /** Number of samples. */
        public int size() {
            return samples.length;
        }

        /** The maps as a float32 array {@code [B, 2, N, side, side]} in {@code manager}. */
        public NDArray mapsArray(NDManager manager) {
            return manager.create(maps, new Shape(shape));
        }

        /** The timestep indices as an int64 array {@code [B]} in {@code manager}. */
        public NDArray timestepArray(NDManager manager) {
            return manager.create(timesteps, new Shape(samples.length));
        }
    }

    /**
     * A subset of the samples of one dataset (a part of a {@link Split}, or {@link #all()}), in a
     * fixed order; immutable.
     */
    public static final class Subset {
        private final RelationDataset dataset;
        private final int[] indices;

        Subset(RelationDataset dataset, int[] indices) {
            this.dataset = dataset;
            this.indices = indices;
        }

        /** The dataset the samples belong to. */
        public RelationDataset dataset() {
            return dataset;
        }

        /** Number of samples. */
        public int size() {
            return indices.length;
        }

        /** True when there are no samples. */
        public boolean isEmpty() {
            return indices.length == 0;
        }

        /** The dataset indices of the samples (a copy). */
        public int[] indices() {
            return indices.clone();
        }

        /** Number of distinct triplets. */
        public int tripletCount() {
            Set<Long> ids = new HashSet<>();
            for (int i : indices) {
                ids.add(dataset.triplet[i]);
            }
            return ids.size();
        }

        /** Number of positive-prompt samples. */
        public int positiveCount() {
            int n = 0;
            for (int i : indices) {
                n += dataset.positive[i] ? 1 : 0;
            }
            return n;
        }

        /**
         * This subset without the negative-prompt samples (the reference's ablation: training on
         * positive prompts only, which lets a classifier learn the relation word's trace).
         */
        public Subset withoutNegatives() {
            return new Subset(dataset, Arrays.stream(indices).filter(i -> dataset.positive[i]).toArray());
        }

        /**
         * The subset's dataset indices in batches of {@code batchSize} (the last one may be
         * smaller), in an order shuffled by a {@link SplittableRandom} seeded with
         * {@code shuffleSeed}: the same seed always gives the same batches.
         */
        public List<int[]> batchIndices(int batchSize, long shuffleSeed) {
            int[] order = indices.clone();
            shuffle(order, new SplittableRandom(shuffleSeed));
            return chunk(order, batchSize);
        }

        /** The subset's dataset indices in batches of {@code batchSize}, in subset order. */
        public List<int[]> batchIndicesInOrder(int batchSize) {
            return chunk(indices, batchSize);
        }

        /** Batches read lazily from the shards, shuffled as {@link #batchIndices}. */
        public Iterable<Batch> batches(int batchSize, long shuffleSeed) {
            return reading(batchIndices(batchSize, shuffleSeed));
        }

        /** Batches read lazily from the shards, in subset order. */
        public Iterable<Batch> batchesInOrder(int batchSize) {
            return reading(batchIndicesInOrder(batchSize));
        }

        private Iterable<Batch> reading(List<int[]> groups) {
            return () -> new Iterator<>() {
                private int next;

                @Override
                public boolean hasNext() {
                    return next < groups.size();
                }

                @Override
                public Batch next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    return dataset.batch(groups.get(next++));
                }
            };
        }

        private static List<int[]> chunk(int[] order, int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
            }
            List<int[]> out = new ArrayList<>();
            for (int i = 0; i < order.length; i += batchSize) {
                out.add(Arrays.copyOfRange(order, i, Math.min(order.length, i + batchSize)));
            }
            return Collections.unmodifiableList(out);
        }

        @Override
        public String toString() {
            return indices.length + " samples (" + positiveCount() + " positive) of " + tripletCount() + " triplets";
        }
    }
}
