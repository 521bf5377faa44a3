package dev.steer.pytorch.training;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes small relation datasets in the documented on-disk format ({@code docs/relation-dataset.md})
 * whose truth is known: each word's maps are blobs around the word's position, so the label is
 * readable from geometry (subject mass left of object mass: "to the left of"; y grows downward).
 * The subject-object offset along the relation's axis is drawn from [minOffset, maxOffset] pixels,
 * across it at most a quarter of that; each map's centre is jittered (0.7 px), map k has blur
 * 1.2 + 0.4 k px, plus uniform noise (1.5x stronger at step indices up to 10); every map sums to 1.
 *
 * <p>Optionally a <i>relation-word trace</i>: every subject map gets {@code trace} times its mass
 * added on two pixels that depend on {@code prompt_relation} (placed symmetrically about the
 * centre, so the map's centroid does not move) before renormalising. Positive samples' traces agree with the label;
 * negatives' (the prompt states a wrong relation) contradict it, as relation leakage in real
 * attention maps does.
 */
final class SyntheticRelationData {
    static final List<String> RELATIONS = List.of("above", "below", "to the left of", "to the right of");
    static final int SIDE = 16;

    /**
     * What to generate.
     *
     * @param triplets source triplets (label = id mod 4)
     * @param mapsPerWord N (at least 4 when there is a trace)
     * @param steps step indices; every triplet gets one positive (and one negative) sample per step
     * @param negatives whether to write the dual-inversion negatives
     * @param trace relation-word trace strength (0: none)
     * @param minOffset least subject-object distance along the relation's axis, in pixels
     * @param maxOffset largest distance
     * @param noise uniform background noise relative to a blob's peak
     * @param perShard samples per shard
     * @param seed generator seed
     */
    record Spec(int triplets, int mapsPerWord, int[] steps, boolean negatives, double trace, double minOffset, double maxOffset,
            double noise, int perShard, long seed) {
        /** Geometry only, clear offsets. */
        static Spec geometric(int triplets, long seed) {
            return new Spec(triplets, 4, new int[] {5, 25, 49}, true, 0, 2.5, 6, 0.03, 200, seed);
        }

        /** The geometry of {@link #geometric} plus a strong relation-word trace. */
        static Spec leaky(int triplets, long seed) {
            return new Spec(triplets, 4, new int[] {5, 25, 49}, true, 1.0, 2.5, 6, 0.03, 200, seed);
        }

        Spec withTriplets(int n) {
            return new Spec(n, mapsPerWord, steps, negatives, trace, minOffset, maxOffset, noise, perShard, seed);
        }

        Spec withPerShard(int n) {
            return new Spec(triplets, mapsPerWord, steps, negatives, trace, minOffset, maxOffset, noise, n, seed);
        }
    }

    private SyntheticRelationData() {
    }

    /** Writes the dataset into {@code dir} and returns it. */
    static Path write(Path dir, Spec spec) throws IOException {
        Files.createDirectories(dir);
        int n = spec.mapsPerWord();
        int per = 2 * n * SIDE * SIDE;
        List<float[]> maps = new ArrayList<>();
        List<long[]> meta = new ArrayList<>(); // timestep, label, prompt, positive, triplet
        StringBuilder triplets = new StringBuilder();
        for (int t = 0; t < spec.triplets(); t++) {
            SplittableRandom rnd = new SplittableRandom(spec.seed() * 1_000_003L + t);
            int label = t % RELATIONS.size();
            double d = spec.minOffset() + rnd.nextDouble() * (spec.maxOffset() - spec.minOffset());
            double perp = (rnd.nextDouble() * 2 - 1) * 0.25 * d;
            double dx;
            double dy;
            switch (label) {
                case 0 -> { dx = perp; dy = -d; }
                case 1 -> { dx = perp; dy = d; }
                case 2 -> { dx = -d; dy = perp; }
                default -> { dx = d; dy = perp; }
            }
            double mx = 4 + rnd.nextDouble() * 7.5;
            double my = 4 + rnd.nextDouble() * 7.5;
            double[] subject = {mx + dx / 2, my + dy / 2};
            double[] object = {mx - dx / 2, my - dy / 2};
            int wrong = (label + 1 + rnd.nextInt(RELATIONS.size() - 1)) % RELATIONS.size();
            triplets.append(String.format(java.util.Locale.ROOT,
                    "{\"id\": %d, \"image\": \"images/%04d.png\", \"subject\": \"s%d\", \"object\": \"o%d\", \"relation\": \"%s\", "
                            + "\"source\": \"synthetic\"}%n", t, t, t, t, RELATIONS.get(label)));
            for (int step : spec.steps()) {
                for (int kind = 0; kind < (spec.negatives() ? 2 : 1); kind++) {
                    int prompt = kind == 0 ? label : wrong;
                    float[] sample = new float[per];
                    double noise = spec.noise() * (step <= 10 ? 1.5 : 1.0);
                    fill(sample, 0, n, subject, noise, spec.trace(), prompt, rnd);
                    fill(sample, n * SIDE * SIDE, n, object, noise, 0, -1, rnd);
                    maps.add(sample);
                    meta.add(new long[] {step, label, prompt, kind == 0 ? 1 : 0, t});
                }
            }
        }
        JsonArray shards = new JsonArray();
        for (int s = 0, start = 0; start < maps.size(); s++, start += spec.perShard()) {
            int k = Math.min(spec.perShard(), maps.size() - start);
            String name = String.format("shard-%05d.safetensors", s);
            float[] m = new float[k * per];
            long[][] cols = new long[5][k];
            for (int i = 0; i < k; i++) {
                System.arraycopy(maps.get(start + i), 0, m, i * per, per);
                for (int c = 0; c < 5; c++) {
                    cols[c][i] = meta.get(start + i)[c];
                }
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("maps", Tensor.f32(m, k, 2, n, SIDE, SIDE));
            tensors.put("timestep", Tensor.i64(cols[0], k));
            tensors.put("label", Tensor.i64(cols[1], k));
            tensors.put("prompt_relation", Tensor.i64(cols[2], k));
            tensors.put("positive", Tensor.u8(cols[3], k));
            tensors.put("triplet", Tensor.i64(cols[4], k));
            writeSafetensors(dir.resolve(name), tensors);
            JsonObject sh = new JsonObject();
            sh.addProperty("file", name);
            sh.addProperty("samples", k);
            shards.add(sh);
        }
        JsonObject manifest = new JsonObject();
        manifest.addProperty("format", "steer-relation-dataset");
        manifest.addProperty("version", 1);
        manifest.addProperty("model", "synthetic blobs (test)");
        manifest.addProperty("maps_per_word", n);
        manifest.addProperty("map_size", SIDE);
        JsonArray steps = new JsonArray();
        for (int s : spec.steps()) {
            steps.add(s);
        }
        manifest.add("step_indices", steps);
        JsonArray rel = new JsonArray();
        RELATIONS.forEach(rel::add);
        manifest.add("relations", rel);
        JsonObject inv = new JsonObject();
        inv.addProperty("steps", 50);
        inv.addProperty("fixed_point_iterations", 5);
        inv.addProperty("guidance", 1.0);
        inv.addProperty("psnr_threshold_db", 19.5);
        manifest.add("inversion", inv);
        manifest.add("shards", shards);
        JsonArray done = new JsonArray();
        for (int t = 0; t < spec.triplets(); t++) {
            done.add(t);
        }
        manifest.add("completed_triplets", done);
        JsonObject report = new JsonObject();
        report.addProperty("records", spec.triplets());
        report.addProperty("kept", spec.triplets());
        report.add("skipped", new JsonObject());
        report.addProperty("dropped_low_psnr", 0);
        manifest.add("report", report);
        Files.writeString(dir.resolve("manifest.json"), new GsonBuilder().setPrettyPrinting().create().toJson(manifest));
        Files.writeString(dir.resolve("triplets.jsonl"), triplets.toString());
        return dir;
    }

    /** Per relation, two pixels (x, y) symmetric about the centre: a trace that does not move the map's centroid. */
    private static final int[][][] TRACE_PIXELS = {
        {{0, 0}, {15, 15}}, {{15, 0}, {0, 15}}, {{7, 0}, {8, 15}}, {{0, 7}, {15, 8}}};

    /** N maps of one word: blobs around {@code centre} with per-map jitter, noise, optional trace; each sums to 1. */
    private static void fill(float[] out, int offset, int n, double[] centre, double noise, double trace, int traceMap,
            SplittableRandom rnd) {
        int area = SIDE * SIDE;
        for (int k = 0; k < n; k++) {
            double sigma = 1.2 + 0.4 * k;
            double cx = centre[0] + rnd.nextGaussian() * 0.7;
            double cy = centre[1] + rnd.nextGaussian() * 0.7;
            double sum = 0;
            int base = offset + k * area;
            for (int y = 0; y < SIDE; y++) {
                for (int x = 0; x < SIDE; x++) {
                    double r2 = (x + 0.5 - cx) * (x + 0.5 - cx) + (y + 0.5 - cy) * (y + 0.5 - cy);
                    double v = StrictMath.exp(-r2 / (2 * sigma * sigma)) + noise * rnd.nextDouble();
                    out[base + y * SIDE + x] = (float) v;
                    sum += v;
                }
            }
            if (traceMap >= 0 && trace > 0) {
                for (int[] px : TRACE_PIXELS[traceMap]) {
                    out[base + px[1] * SIDE + px[0]] += (float) (trace * sum / 2);
                }
                sum *= 1 + trace;
            }
            for (int i = 0; i < area; i++) {
                out[base + i] = (float) (out[base + i] / sum);
            }
        }
    }

    // ---- a minimal safetensors writer with the dtypes the format names (F32, I64, U8)

    record Tensor(String dtype, long[] shape, byte[] bytes) {
        static Tensor f32(float[] v, long... shape) {
            ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            return new Tensor("F32", shape, b.array());
        }

        static Tensor i64(long[] v, long... shape) {
            ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            b.asLongBuffer().put(v);
            return new Tensor("I64", shape, b.array());
        }

        static Tensor u8(long[] v, long... shape) {
            byte[] b = new byte[v.length];
            for (int i = 0; i < v.length; i++) {
                b[i] = (byte) v[i];
            }
            return new Tensor("U8", shape, b);
        }
    }

    static void writeSafetensors(Path file, Map<String, Tensor> tensors) throws IOException {
        JsonObject header = new JsonObject();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            JsonObject entry = new JsonObject();
            entry.addProperty("dtype", e.getValue().dtype());
            JsonArray shape = new JsonArray();
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            entry.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + e.getValue().bytes().length);
            entry.add("data_offsets", offsets);
            header.add(e.getKey(), entry);
            offset += e.getValue().bytes().length;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        try (OutputStream out = Files.newOutputStream(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(json);
            for (int i = json.length; i < padded; i++) {
                out.write(' ');
            }
            for (Tensor t : tensors.values()) {
                out.write(t.bytes());
            }
        }
    }
}
