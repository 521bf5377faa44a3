package dev.steer.pytorch.inversion;

import dev.steer.core.testing.Conformance;
import dev.steer.core.weights.SafetensorsFile;
import dev.steer.core.weights.SafetensorsWriter;
import dev.steer.core.weights.TensorData;
import dev.steer.core.weights.TensorInfo;
import dev.steer.pytorch.pipeline.StableDiffusion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tiny test pipelines (the conformance fixtures' unet-sd1-tiny, clip-sd1-tiny, vae-tiny,
 * sched-ddim and the real CLIP tokenizer, laid out as a diffusers folder) with the text encoder's
 * vocabulary widened to CLIP's 49408 ids so that real prompts tokenize: with the fixtures' weights
 * (the token embedding table tiled to 49408 rows) or with seeded random weights.
 */
public final class TinyPipelines {
    private static final int VOCAB = 49408;

    private TinyPipelines() {
    }

    /**
     * The fixtures' weights, with the text encoder's token embedding of 1000 rows tiled to 49408
     * (row i is fixture row i mod 1000).
     */
    public static StableDiffusion fixtureTiny(Path root) throws IOException {
        Path folder = folder(root);
        Path weights = folder.resolve("text_encoder/model.safetensors");
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            for (String name : f.tensors().keySet()) {
                TensorInfo info = f.info(name);
                float[] v = f.readFloats(name);
                long[] shape = info.shape().clone();
                if (name.endsWith("token_embedding.weight")) {
                    int rows = (int) shape[0];
                    int dim = (int) shape[1];
                    float[] wide = new float[VOCAB * dim];
                    for (int i = 0; i < VOCAB; i++) {
                        System.arraycopy(v, (i % rows) * dim, wide, i * dim, dim);
                    }
                    v = wide;
                    shape[0] = VOCAB;
                }
                tensors.put(name, TensorData.ofFloats(shape, v));
            }
        }
        SafetensorsWriter.write(weights, tensors, null);
        return StableDiffusion.builder().setModelFolder(folder).build();
    }

    /** Assembles the folder under {@code root} and loads it with random weights of {@code seed}. */
    public static StableDiffusion randomTiny(Path root, long seed) throws IOException {
        return StableDiffusion.builder().setModelFolder(folder(root)).optRandomWeights(seed).build();
    }

    private static Path folder(Path root) throws IOException {
        copyDir(Conformance.dir("unet-sd1-tiny").resolve("unet"), root.resolve("unet"));
        copyDir(Conformance.dir("clip-sd1-tiny").resolve("text_encoder"), root.resolve("text_encoder"));
        copyDir(Conformance.dir("vae-tiny").resolve("vae"), root.resolve("vae"));
        Files.createDirectories(root.resolve("scheduler"));
        Files.copy(Conformance.dir("sched-ddim").resolve("scheduler_config.json"), root.resolve("scheduler/scheduler_config.json"));
        copyDir(Conformance.dir("clip-tokenizer"), root.resolve("tokenizer"));
        Files.delete(root.resolve("tokenizer/golden_token_ids.json"));
        Path cfg = root.resolve("text_encoder/config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"vocab_size\": 1000", "\"vocab_size\": " + VOCAB));
        return root;
    }

    private static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
    }
}
