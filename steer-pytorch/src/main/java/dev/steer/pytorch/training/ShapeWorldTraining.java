package dev.steer.pytorch.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Progress;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.steer.core.shapeworld.Captions;
import dev.steer.core.shapeworld.Scene;
import dev.steer.core.shapeworld.ShapeWorld;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.SafetensorsWriter;
import dev.steer.core.internal.weights.TensorData;
import dev.steer.pytorch.nn.Weight;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * What the ShapeWorld trainers share ({@link ShapeWorldTrainer} for the UNet model,
 * {@link FluxShapeWorldTrainer} for the FLUX-architecture one): per-step seeded batches of rendered
 * scenes and captions, warm-up, the exponential moving average, the divergence guard, and the work
 * folder's files (progress {@code state.json} written atomically, weights, EMA and AdamW moments as
 * float32 safetensors) that make an interrupted run resume exactly.
 */
final class ShapeWorldTraining {
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    private ShapeWorldTraining() {
    }

    // ---------------------------------------------------------------- data

    /** A batch of rendered scenes as [B, 3, 32, 32] in [-1, 1]; fills {@code captions} and {@code scenes} when given. */
    static NDArray images(NDManager scope, Random rng, int batchSize, String[] captions, Scene[] scenes) {
        ShapeWorld world = ShapeWorld.DEFAULT;
        int n = world.size();
        float[] data = new float[batchSize * 3 * n * n];
        for (int b = 0; b < batchSize; b++) {
            Scene scene = world.sample(rng);
            if (scenes != null) {
                scenes[b] = scene;
            }
            if (captions != null) {
                captions[b] = Captions.DEFAULT.caption(scene, rng);
            }
            BufferedImage img = ShapeWorld.render(scene);
            for (int y = 0; y < n; y++) {
                for (int x = 0; x < n; x++) {
                    int rgb = img.getRGB(x, y);
                    int base = b * 3 * n * n + y * n + x;
                    data[base] = ((rgb >> 16) & 0xff) / 127.5f - 1f;
                    data[base + n * n] = ((rgb >> 8) & 0xff) / 127.5f - 1f;
                    data[base + 2 * n * n] = (rgb & 0xff) / 127.5f - 1f;
                }
            }
        }
        return scope.create(data, new Shape(batchSize, 3, n, n));
    }

    /** The random source of one step of one stage: a batch depends only on the seed, the stage and the step. */
    static Random stepRandom(long seed, int stage, int step) {
        return new Random(seed * 1_000_003L + stage * 7_919L * 1_000_000L + step);
    }

    static float[] gaussian(Random rng, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) rng.nextGaussian();
        }
        return out;
    }

    /** Linear warm-up factor of the learning rate. */
    static float warmup(int step, int warmupSteps) {
        return Math.min(1f, (step + 1f) / warmupSteps);
    }

    // ---------------------------------------------------------------- training

    /**
     * Stops a diverged run before the update that would spread non-finite values into the weights
     * (and into the next checkpoint): the last checkpoint stays usable for a resume with a lower rate.
     */
    static void requireFinite(String stage, int step, float loss, int lastCheckpoint) {
        if (!Float.isFinite(loss)) {
            throw new IllegalStateException(stage + " training diverged at step " + (step + 1) + " (loss " + loss
                    + "); nothing was updated or saved; resume from the checkpoint of step " + lastCheckpoint
                    + " with a lower learning rate (--lr)");
        }
    }

    /** {@code ema <- ema + (1 - decay) (w - ema)}, in place, gradient recording off. */
    static void updateEma(Map<String, NDArray> ema, Map<String, Weight> params, float decay) {
        boolean mode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (Map.Entry<String, NDArray> e : ema.entrySet()) {
                NDArray avg = e.getValue();
                NDArray w = params.get(e.getKey()).value();
                try (NDArray delta = w.sub(avg)) { // in w's scope; closed at once
                    avg.addi(delta.muli(1 - decay));
                }
            }
        } finally {
            JniUtils.setGradMode(mode);
        }
    }

    // ---------------------------------------------------------------- progress

    /**
     * Starts reporting a stage of {@code total} steps, resumed at step {@code start}, to {@code progress}
     * (nothing when it is null): {@code reset(stage, total)}, {@code start(start)}.
     */
    static void progressStart(Progress progress, String stage, int total, int start) {
        if (progress != null) {
            progress.reset(stage, total);
            progress.start(start);
        }
    }

    /** Reports that {@code done} steps of the stage are complete, with a short status {@code message}. */
    static void progressStep(Progress progress, int done, String message) {
        if (progress != null) {
            progress.update(done, message);
        }
    }

    /** Reports the end of the stage. */
    static void progressEnd(Progress progress) {
        if (progress != null) {
            progress.end();
        }
    }

    // ---------------------------------------------------------------- files

    /**
     * Keeps in the progress file from which step on which grounding weight applied (none recorded:
     * 0), so that a model trained in phases (for example captions only, then with grounding) says
     * how it was made.
     */
    static void recordGrounding(Path workDir, JsonObject state, int start, int steps, float weight) {
        JsonObject setting = new JsonObject();
        setting.addProperty("weight", weight);
        JsonObject none = new JsonObject();
        none.addProperty("weight", 0f);
        recordPhase(workDir, state, "grounding", start, steps, setting, none);
    }

    /**
     * Appends {@code {"from_step": start, ...setting}} to the progress file's list {@code key} when a
     * run that trains ({@code start < steps}) begins with another setting than the last one recorded
     * ({@code initial} while none is, or null), and writes the file.
     */
    static void recordPhase(Path workDir, JsonObject state, String key, int start, int steps, JsonObject setting, JsonObject initial) {
        if (start >= steps) {
            return;
        }
        JsonObject wanted = asStored(setting);
        JsonArray phases = state.has(key) ? state.getAsJsonArray(key) : new JsonArray();
        JsonObject last = phases.isEmpty() ? (initial == null ? null : asStored(initial)) : phases.get(phases.size() - 1).getAsJsonObject().deepCopy();
        if (last != null) {
            last.remove("from_step");
        }
        if (!wanted.equals(last)) {
            JsonObject phase = new JsonObject();
            phase.addProperty("from_step", start);
            wanted.entrySet().forEach(e -> phase.add(e.getKey(), e.getValue()));
            phases.add(phase);
            state.add(key, phases);
            writeState(workDir, state);
        }
    }

    /** The object as read back from the progress file: Gson tells a float from its parsed text apart. */
    private static JsonObject asStored(JsonObject o) {
        return JsonParser.parseString(o.toString()).getAsJsonObject();
    }

    static JsonObject readState(Path workDir) throws IOException {
        Path f = workDir.resolve("state.json");
        return Files.exists(f) ? JsonParser.parseString(Files.readString(f)).getAsJsonObject() : new JsonObject();
    }

    static void writeState(Path workDir, JsonObject state) {
        try {
            Path tmp = workDir.resolve("state.json.tmp");
            Files.writeString(tmp, GSON.toJson(state), StandardCharsets.UTF_8);
            Files.move(tmp, workDir.resolve("state.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void saveOptimizer(AdamW opt, Path file) {
        SafetensorsWriter.write(file, opt.state(), Map.of("steps", Long.toString(opt.step())));
    }

    static void restoreOptimizer(AdamW opt, Path file, int start) {
        if (start == 0 || !Files.exists(file)) {
            return;
        }
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            opt.restore(Long.parseLong(st.metadata().getOrDefault("steps", "0")), k -> st.contains(k) ? st.readFloats(k) : null);
        }
    }

    static void savePrefixed(Map<String, Weight> params, Path file) {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        params.forEach((k, w) -> arrays.put(k, w.value()));
        saveArrays(arrays, file);
    }

    static void saveArrays(Map<String, NDArray> arrays, Path file) {
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        arrays.forEach((k, a) -> tensors.put(k, TensorData.ofFloats(a.getShape().getShape(), a.toFloatArray())));
        SafetensorsWriter.write(file, tensors, Map.of());
    }

    static void loadPrefixed(Map<String, Weight> params, Path file, NDManager manager) {
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            for (Map.Entry<String, Weight> e : params.entrySet()) {
                NDArray value = manager.create(st.readFloats(e.getKey()), e.getValue().shape());
                e.getValue().set(value);
            }
        }
    }
}
