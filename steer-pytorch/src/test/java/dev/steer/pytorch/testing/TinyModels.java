package dev.steer.pytorch.testing;

import ai.djl.ndarray.NDManager;
import dev.steer.core.model.ClipTextConfig;
import dev.steer.core.model.UNetConfig;
import dev.steer.core.model.VaeConfig;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.TensorDType;
import dev.steer.core.internal.weights.SafetensorsWriter;
import dev.steer.core.internal.weights.TensorData;
import dev.steer.pytorch.clip.ClipTextModel;
import dev.steer.pytorch.pipeline.StableDiffusion;
import dev.steer.pytorch.unet.UNet2DConditionModel;
import dev.steer.pytorch.vae.AutoencoderKL;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tiny conformance models (unet-sd1-tiny, clip-sd1-tiny, vae-tiny, sched-ddim, the real CLIP
 * tokenizer) for tests: loaded one by one, or laid out as a diffusers folder the way a user's
 * download looks, optionally with the text encoder widened to CLIP's vocabulary so that real
 * prompts tokenize into it.
 */
public final class TinyModels {
    /** CLIP's vocabulary size. */
    public static final int CLIP_VOCABULARY = 49408;

    private TinyModels() {
    }

    /** The tiny UNet with the fixture's weights, owned by {@code manager}. */
    public static UNet2DConditionModel unet(NDManager manager) {
        Path dir = Conformance.dir("unet-sd1-tiny").resolve("unet");
        UNet2DConditionModel unet = new UNet2DConditionModel(UNetConfig.load(dir.resolve("config.json")));
        ModelWeights.load(unet, List.of(dir.resolve("diffusion_pytorch_model.safetensors")), manager);
        return unet;
    }

    /** The tiny text encoder (1000 tokens) with the fixture's weights. */
    public static ClipTextModel textEncoder(NDManager manager) {
        Path dir = Conformance.dir("clip-sd1-tiny").resolve("text_encoder");
        ClipTextModel text = new ClipTextModel(ClipTextConfig.load(dir.resolve("config.json")));
        ModelWeights.load(text, List.of(dir.resolve("model.safetensors")), manager);
        return text;
    }

    /** The tiny FLUX transformer (FLUX.1 [dev]-like: guidance embedding) with the fixture's weights. */
    public static dev.steer.pytorch.flux.FluxTransformer2DModel fluxTransformer(NDManager manager) {
        Path dir = Conformance.dir("flux-transformer-tiny").resolve("transformer");
        var model = new dev.steer.pytorch.flux.FluxTransformer2DModel(
                dev.steer.core.model.FluxTransformerConfig.load(dir.resolve("config.json")));
        ModelWeights.load(model, List.of(dir.resolve("diffusion_pytorch_model.safetensors")), manager);
        return model;
    }

    /** The tiny autoencoder with the fixture's weights. */
    public static AutoencoderKL vae(NDManager manager) {
        Path dir = Conformance.dir("vae-tiny").resolve("vae");
        AutoencoderKL vae = new AutoencoderKL(VaeConfig.load(dir.resolve("config.json")));
        ModelWeights.load(vae, List.of(dir.resolve("diffusion_pytorch_model.safetensors")), manager);
        return vae;
    }

    /** The pipeline-tiny model as a diffusers folder under {@code root}, weights as they are. */
    public static Path folder(Path root) throws IOException {
        copyDir(Conformance.dir("unet-sd1-tiny").resolve("unet"), root.resolve("unet"));
        copyDir(Conformance.dir("clip-sd1-tiny").resolve("text_encoder"), root.resolve("text_encoder"));
        copyDir(Conformance.dir("vae-tiny").resolve("vae"), root.resolve("vae"));
        Files.createDirectories(root.resolve("scheduler"));
        Files.copy(Conformance.dir("sched-ddim").resolve("scheduler_config.json"), root.resolve("scheduler/scheduler_config.json"));
        copyDir(Conformance.dir("clip-tokenizer"), root.resolve("tokenizer"));
        Files.delete(root.resolve("tokenizer/golden_token_ids.json"));
        return root;
    }

    /**
     * The tiny folder with the text encoder widened to {@link #CLIP_VOCABULARY} tokens: its token
     * embedding table tiled (row i is fixture row i mod 1000), so real prompts tokenize into it.
     */
    public static Path fullVocabularyFolder(Path root) throws IOException {
        folder(root);
        Path cfg = root.resolve("text_encoder/config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"vocab_size\": 1000", "\"vocab_size\": " + CLIP_VOCABULARY));
        Path weights = root.resolve("text_encoder/model.safetensors");
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            for (String name : f.tensors().keySet()) {
                float[] v = f.readFloats(name);
                long[] shape = f.info(name).shape().clone();
                if (name.endsWith("token_embedding.weight")) {
                    int rows = (int) shape[0];
                    int dim = (int) shape[1];
                    float[] wide = new float[CLIP_VOCABULARY * dim];
                    for (int i = 0; i < CLIP_VOCABULARY; i++) {
                        System.arraycopy(v, (i % rows) * dim, wide, i * dim, dim);
                    }
                    v = wide;
                    shape[0] = CLIP_VOCABULARY;
                }
                tensors.put(name, TensorData.ofFloats(shape, v));
            }
        }
        SafetensorsWriter.write(weights, tensors, null);
        return root;
    }

    /** The full-vocabulary tiny model with the fixtures' weights, loaded. */
    public static StableDiffusion fixtureTiny(Path root) throws IOException {
        return StableDiffusion.builder().setModelFolder(fullVocabularyFolder(root)).build();
    }

    /** The full-vocabulary tiny architecture with seeded random weights, loaded. */
    public static StableDiffusion randomTiny(Path root, long seed) throws IOException {
        return StableDiffusion.builder().setModelFolder(fullVocabularyFolder(root)).optRandomWeights(seed).build();
    }

    /**
     * A FLUX.1 folder of tiny parts, laid out as a user's download: the flux-transformer-tiny
     * transformer ([dev]-like: guidance embedding), the t5-tiny encoder with the test T5 tokenizer,
     * the FLUX autoencoder, the flow-matching scheduler ({@code dev} picks the dynamic-shift config),
     * the real CLIP tokenizer and a CLIP text encoder with seeded random weights as wide as the
     * transformer's pooled projection (24), with CLIP's full vocabulary.
     */
    public static Path fluxFolder(Path root, boolean dev) throws IOException {
        Files.createDirectories(root);
        Files.writeString(root.resolve("model_index.json"), "{\"_class_name\": \"FluxPipeline\", \"_diffusers_version\": \"0.32.2\"}");
        copyDir(Conformance.dir("flux-transformer-tiny").resolve("transformer"), root.resolve("transformer"));
        copyDir(Conformance.dir("t5-tiny").resolve("text_encoder_2"), root.resolve("text_encoder_2"));
        Files.createDirectories(root.resolve("tokenizer_2"));
        Files.copy(Conformance.testdata().resolve("tokenizers/t5-test/tokenizer.json"), root.resolve("tokenizer_2/tokenizer.json"));
        copyDir(Conformance.dir("vae-flux-tiny").resolve("vae"), root.resolve("vae"));
        Files.createDirectories(root.resolve("scheduler"));
        Files.copy(Conformance.dir(dev ? "sched-flowmatch-dev" : "sched-flowmatch-schnell").resolve("scheduler_config.json"),
                root.resolve("scheduler/scheduler_config.json"));
        copyDir(Conformance.dir("clip-tokenizer"), root.resolve("tokenizer"));
        Files.delete(root.resolve("tokenizer/golden_token_ids.json"));
        Path clip = root.resolve("text_encoder");
        Files.createDirectories(clip);
        String config = Files.readString(Conformance.dir("clip-pooled-tiny").resolve("text_encoder/config.json"))
                .replace("\"vocab_size\": 1000", "\"vocab_size\": " + CLIP_VOCABULARY)
                .replace("\"hidden_size\": 32", "\"hidden_size\": 24")
                .replace("\"intermediate_size\": 64", "\"intermediate_size\": 48");
        Files.writeString(clip.resolve("config.json"), config);
        try (NDManager m = NDManager.newBaseManager()) {
            ClipTextModel text = new ClipTextModel(ClipTextConfig.load(clip.resolve("config.json")));
            ModelWeights.randomize(text, 24, m);
            ModelWeights.save(text, clip.resolve("model.safetensors"), TensorDType.F32, null);
        }
        return root;
    }

    /** Deletes a folder and everything in it. */
    public static void deleteDir(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    /** Copies the regular files of a folder. */
    public static void copyDir(Path from, Path to) throws IOException {
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
