package dev.steer.pytorch.training;

import static dev.steer.pytorch.training.ShapeWorldTraining.gaussian;
import static dev.steer.pytorch.training.ShapeWorldTraining.loadPrefixed;
import static dev.steer.pytorch.training.ShapeWorldTraining.progressEnd;
import static dev.steer.pytorch.training.ShapeWorldTraining.progressStart;
import static dev.steer.pytorch.training.ShapeWorldTraining.progressStep;
import static dev.steer.pytorch.training.ShapeWorldTraining.requireFinite;
import static dev.steer.pytorch.training.ShapeWorldTraining.restoreOptimizer;
import static dev.steer.pytorch.training.ShapeWorldTraining.saveArrays;
import static dev.steer.pytorch.training.ShapeWorldTraining.saveOptimizer;
import static dev.steer.pytorch.training.ShapeWorldTraining.savePrefixed;
import static dev.steer.pytorch.training.ShapeWorldTraining.updateEma;
import static dev.steer.pytorch.training.ShapeWorldTraining.warmup;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.util.Progress;
import dev.steer.pytorch.nn.GradientSection;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.steer.core.model.ClipTextConfig;
import dev.steer.core.model.FluxTransformerConfig;
import dev.steer.core.model.T5Config;
import dev.steer.core.model.VaeConfig;
import dev.steer.core.shapeworld.Scene;
import dev.steer.core.tokenizer.ClipTokenizer;
import dev.steer.core.tokenizer.T5Tokenizer;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.TensorDType;
import dev.steer.pytorch.clip.ClipTextModel;
import dev.steer.pytorch.flux.FluxTransformer2DModel;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.internal.nn.Scalars;
import dev.steer.pytorch.nn.Weight;
import dev.steer.pytorch.t5.T5EncoderModel;
import dev.steer.pytorch.vae.AutoencoderKL;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a small FLUX-architecture ShapeWorld model from scratch, with the library's own FLUX
 * classes, into a diffusers {@code FluxPipeline} folder that loads like a user's FLUX.1 download.
 *
 * <p>What it trains: a {@link FluxTransformer2DModel} (double- and single-stream blocks, rotary
 * positions, no guidance embedding: [schnell]-like, sampled with classifier-free guidance) and a
 * T5-architecture {@link T5EncoderModel} jointly, from scratch, with the ShapeWorld T5 vocabulary
 * ({@link ShapeWorldT5Vocabulary}). What it reuses, frozen, from the UNet ShapeWorld model folder
 * ({@link Builder#setSource}): the autoencoder (32x32 images to 16x16x4 latents; 2x2 packing gives
 * 64 tokens of 16 channels) and the CLIP-architecture text encoder with the real CLIP tokenizer,
 * whose pooled output conditions the blocks as FLUX's does.
 *
 * <p>Objective: rectified flow as FLUX and SD3 train it. For an image latent {@code x0} and noise
 * {@code e}, {@code s ~ U(0, 1)} per sample, {@code x_s = (1 - s) x0 + s e}, and the transformer,
 * given the timestep {@code s} (as {@code FluxPipeline} passes sigma x 1000 / 1000), predicts the
 * velocity {@code e - x0} under mean squared error. Uniform {@code s} (rather than SD3's
 * logit-normal) because the sampler uses the unshifted schedule ({@code shift} 1) whose steps are
 * spread evenly over sigma, and a 32x32 scene's layout is decided at high noise, which a
 * logit-normal density barely visits. Captions are dropped (empty for both encoders) with
 * probability {@link Builder#optCaptionDropout} so classifier-free guidance works. AdamW (weight
 * decay 0.01) with linear warm-up (and optionally a linear decay to zero, {@link
 * Builder#optDecayFrom}), the gradients' global norm clipped (a non-finite gradient skips the
 * step), an exponential moving average of the weights, which is what is exported. Optionally
 * ({@link Builder#optGroundingWeight}) {@link AttentionGrounding} ties each colour and shape word's
 * image->text attention in every block to its object's box.
 *
 * <p>Each step's batch depends only on the seed and the step number, and the work folder keeps
 * weights, EMA, optimizer moments and {@code state.json} (step, configuration, loss history) at
 * every checkpoint, so {@link #run()} resumes an interrupted run exactly. Every checkpoint also
 * exports the EMA weights (float16) to the model folder.
 */
public final class FluxShapeWorldTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(FluxShapeWorldTrainer.class);

    /** The head width of every configuration; rotary axes split it (8, 12, 12) as FLUX's (16, 56, 56) splits 128. */
    static final int HEAD_DIM = 32;
    private static final int[] AXES = {8, 12, 12};

    private final Path workDir;
    private final Path output;
    private final Path source;
    private final long seed;
    private final int batchSize;
    private final int steps;
    private final float learningRate;
    private final int warmupSteps;
    private final int decayFrom;
    private final float emaDecay;
    private final float maxGradNorm;
    private final float groundingWeight;
    private final float captionDropout;
    private final int checkpointEvery;
    private final int hidden;
    private final int doubleBlocks;
    private final int singleBlocks;
    private final int t5Dim;
    private final int t5Layers;
    private final int textLength;
    private final Consumer<String> log;
    private final Progress progress;

    private FluxShapeWorldTrainer(Builder b) {
        this.workDir = b.workDir;
        this.output = b.output;
        this.source = b.source;
        this.seed = b.seed;
        this.batchSize = b.batchSize;
        this.steps = b.steps;
        this.learningRate = b.learningRate;
        this.warmupSteps = b.warmupSteps;
        this.decayFrom = b.decayFrom;
        this.emaDecay = b.emaDecay;
        this.maxGradNorm = b.maxGradNorm;
        this.groundingWeight = b.groundingWeight;
        this.captionDropout = b.captionDropout;
        this.checkpointEvery = b.checkpointEvery;
        this.hidden = b.hidden;
        this.doubleBlocks = b.doubleBlocks;
        this.singleBlocks = b.singleBlocks;
        this.t5Dim = b.t5Dim;
        this.t5Layers = b.t5Layers;
        this.textLength = b.textLength;
        this.log = b.log;
        this.progress = b.progress;
    }

    /** Starts configuring a training run. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs (or resumes) training up to the configured step count and exports the model folder.
     *
     * @return the model folder
     * @throws IllegalStateException when the work folder holds a run of another architecture
     */
    public Path run() throws IOException {
        Files.createDirectories(workDir);
        JsonObject state = ShapeWorldTraining.readState(workDir);
        JsonObject architecture = architecture();
        if (state.has("architecture") && !state.get("architecture").equals(architecture)) {
            throw new IllegalStateException("the work folder " + workDir + " holds a run of " + state.get("architecture")
                    + ", not " + architecture + ": use another --work or the same settings");
        }
        state.add("architecture", architecture);
        writeFolder();
        int start = state.has("step") ? state.get("step").getAsInt() : 0;
        try (NDManager manager = NDManager.newBaseManager();
                T5Tokenizer t5Tokenizer = T5Tokenizer.fromFolder(output, textLength)) {
            VaeConfig vaeConfig = VaeConfig.load(output.resolve("vae/config.json"));
            AutoencoderKL vae = new AutoencoderKL(vaeConfig);
            ModelWeights.load(vae, List.of(output.resolve("vae/diffusion_pytorch_model.safetensors")), manager);
            ClipTextModel clip = new ClipTextModel(ClipTextConfig.load(output.resolve("text_encoder/config.json")));
            ModelWeights.load(clip, List.of(output.resolve("text_encoder/model.safetensors")), manager);
            ClipTokenizer clipTokenizer = ClipTokenizer.fromFolder(output.resolve("tokenizer"));
            T5EncoderModel t5 = new T5EncoderModel(T5Config.load(output.resolve("text_encoder_2/config.json")));
            FluxTransformer2DModel transformer = new FluxTransformer2DModel(FluxTransformerConfig.load(output.resolve("transformer/config.json")));
            Map<String, Weight> params = new LinkedHashMap<>();
            t5.namedParameters().forEach((k, v) -> params.put("text_encoder_2." + k, v));
            transformer.namedParameters().forEach((k, v) -> params.put("transformer." + k, v));
            Path ckpt = workDir.resolve("model.safetensors");
            Path emaFile = workDir.resolve("ema.safetensors");
            if (start > 0 && Files.exists(ckpt)) {
                loadPrefixed(params, ckpt, manager);
            } else {
                ModelWeights.randomize(t5, seed + 21, manager);
                ModelWeights.randomize(transformer, seed + 22, manager);
                start = 0;
            }
            if (start < steps) {
                train(start, state, params, vae, vaeConfig, clip, clipTokenizer, t5Tokenizer, t5, transformer, manager);
            }
            export(emaFile, state);
        }
        return output;
    }

    private void train(int start, JsonObject state, Map<String, Weight> params, AutoencoderKL vae, VaeConfig vaeConfig, ClipTextModel clip,
            ClipTokenizer clipTokenizer, T5Tokenizer t5Tokenizer, T5EncoderModel t5, FluxTransformer2DModel transformer, NDManager manager)
            throws IOException {
        Path ckpt = workDir.resolve("model.safetensors");
        Path emaFile = workDir.resolve("ema.safetensors");
        t5.setRequiresGradient(true);
        transformer.setRequiresGradient(true);
        AdamW opt = new AdamW(params, 0.01);
        restoreOptimizer(opt, workDir.resolve("adamw.safetensors"), start);
        progressStart(progress, "FLUX transformer and T5", steps, start);
        JsonArray history = state.has("history") ? state.getAsJsonArray("history") : new JsonArray();
        ShapeWorldTraining.recordGrounding(workDir, state, start, steps, groundingWeight);
        recordSchedule(state, start);
        int grid = 8;
        try (NDManager emaManager = manager.newSubManager()) {
            Map<String, NDArray> ema = new LinkedHashMap<>();
            if (start > 0 && Files.exists(emaFile)) {
                try (SafetensorsFile st = SafetensorsFile.open(emaFile)) {
                    params.forEach((k, w) -> ema.put(k, emaManager.create(st.readFloats(k), w.shape())));
                }
            } else {
                params.forEach((k, w) -> ema.put(k, w.value().duplicate()));
                ema.values().forEach(a -> a.attach(emaManager));
            }
            long t0 = System.nanoTime();
            double lossSum = 0;
            double normSum = 0;
            int counted = 0;
            int skipped = 0;
            double[] insideShare = new double[1];
            double insideSum = 0;
            int groundedSteps = 0;
            String status = null;
            for (int step = start; step < steps; step++) {
                Random rng = ShapeWorldTraining.stepRandom(seed, 4, step);
                try (NDManager scope = manager.newSubManager()) {
                    String[] captions = new String[batchSize];
                    Scene[] scenes = new Scene[batchSize];
                    NDArray x = ShapeWorldTraining.images(scope, rng, batchSize, captions, scenes);
                    long[] ids = new long[batchSize * textLength];
                    int clipLength = clipTokenizer.maxLength();
                    long[] clipIds = new long[batchSize * clipLength];
                    TokenizedPrompt[] tokenized = new TokenizedPrompt[batchSize];
                    for (int i = 0; i < batchSize; i++) {
                        String caption = rng.nextDouble() < captionDropout ? "" : captions[i];
                        tokenized[i] = t5Tokenizer.tokenize(caption);
                        System.arraycopy(tokenized[i].idsAsLongs(), 0, ids, i * textLength, textLength);
                        System.arraycopy(clipTokenizer.tokenize(caption).idsAsLongs(), 0, clipIds, i * clipLength, clipLength);
                    }
                    AttentionGrounding grounding = groundingWeight > 0 ? AttentionGrounding.of(scenes, tokenized) : null;
                    NDArray mean = vae.encode(x).mean();
                    NDArray z0 = pack(Scalars.mul(vaeConfig.shiftFactor() == 0f ? mean : Scalars.add(mean, -vaeConfig.shiftFactor()),
                            vaeConfig.scalingFactor()));
                    NDArray noise = scope.create(gaussian(rng, (int) z0.size()), z0.getShape());
                    float[] s = new float[batchSize];
                    float[] keep = new float[batchSize];
                    for (int i = 0; i < batchSize; i++) {
                        s[i] = (float) rng.nextDouble();
                        keep[i] = 1f - s[i];
                    }
                    Shape col = new Shape(batchSize, 1, 1);
                    NDArray xs = z0.mul(scope.create(keep, col)).add(noise.mul(scope.create(s, col)));
                    NDArray target = noise.sub(z0);
                    NDArray pooled = clip.encode(scope.create(clipIds, new Shape(batchSize, clipLength))).pooled();
                    float loss;
                    try (GradientSection gc = GradientSection.open()) {
                        NDArray text = t5.forward(scope.create(ids, new Shape(batchSize, textLength)));
                        NDArray pred = transformer.forward(xs, text, pooled, s, null, grid, grid, grounding == null ? null : grounding.jointHook());
                        NDArray mse = pred.sub(target).square().mean();
                        loss = mse.getFloat();
                        NDArray total = mse;
                        NDArray groundingLoss = grounding == null ? null : grounding.loss(scope, insideShare);
                        if (groundingLoss != null) {
                            total = total.add(Scalars.mul(groundingLoss, groundingWeight));
                            insideSum += insideShare[0];
                            groundedSteps++;
                        }
                        gc.backward(total);
                    }
                    requireFinite("FLUX", step, loss, state.has("step") ? state.get("step").getAsInt() : 0);
                    double norm = opt.clipGradNorm(scope, maxGradNorm);
                    if (Double.isFinite(norm)) {
                        opt.update(scope, rate(step));
                        updateEma(ema, params, emaDecay);
                        normSum += norm;
                    } else {
                        skipped++; // a non-finite gradient from a finite loss: drop the step, keep the weights
                    }
                    lossSum += loss;
                    counted++;
                    status = String.format(Locale.ROOT, "mse %.5f", loss);
                }
                if ((step + 1) % 50 == 0 || step + 1 == steps) {
                    double seconds = (System.nanoTime() - t0) / 1e9 / counted;
                    log.accept(String.format(Locale.ROOT, "step %d/%d: velocity mse %.5f, grad norm %.3f, %.2fs/step%s%s", step + 1, steps,
                            lossSum / counted, normSum / Math.max(1, counted - skipped), seconds,
                            groundedSteps > 0 ? String.format(Locale.ROOT, ", attention inside the named box %.3f", insideSum / groundedSteps) : "",
                            skipped > 0 ? ", " + skipped + " steps skipped (non-finite gradient)" : ""));
                    JsonObject point = new JsonObject();
                    point.addProperty("step", step + 1);
                    point.addProperty("loss", (float) (lossSum / counted));
                    point.addProperty("seconds_per_step", (float) seconds);
                    if (groundedSteps > 0) {
                        point.addProperty("inside_share", (float) (insideSum / groundedSteps));
                    }
                    history.add(point);
                    state.add("history", history);
                    insideSum = 0;
                    groundedSteps = 0;
                    lossSum = 0;
                    normSum = 0;
                    counted = 0;
                    skipped = 0;
                    t0 = System.nanoTime();
                }
                if ((step + 1) % checkpointEvery == 0 || step + 1 == steps) {
                    savePrefixed(params, ckpt);
                    saveArrays(ema, emaFile);
                    saveOptimizer(opt, workDir.resolve("adamw.safetensors"));
                    state.addProperty("step", step + 1);
                    ShapeWorldTraining.writeState(workDir, state);
                    if (step + 1 < steps) {
                        export(emaFile, state);
                    }
                }
                progressStep(progress, step + 1, status);
            }
        }
        progressEnd(progress);
        t5.setRequiresGradient(false);
        transformer.setRequiresGradient(false);
    }

    /** [B, C, 16, 16] -> [B, 64, 4C], FluxDenoiser's packing (2x2 cells, channel-major within a token). */
    static NDArray pack(NDArray latents) {
        Shape s = latents.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        return latents.reshape(b, c, h / 2, 2, w / 2, 2).transpose(0, 2, 4, 1, 3, 5).reshape(b, (h / 2) * (w / 2), c * 4);
    }

    /**
     * The learning rate of {@code step}: linear warm-up to the peak, then constant, or, with
     * {@link Builder#optDecayFrom}, falling linearly from the peak at that step to zero after the last.
     */
    float rate(int step) {
        float r = learningRate * warmup(step, warmupSteps);
        if (decayFrom >= 0 && step >= decayFrom) {
            r *= (float) (steps - step) / (steps - decayFrom);
        }
        return r;
    }

    /** Keeps in the progress file from which step on which learning-rate schedule applied (a resume may change it). */
    private void recordSchedule(JsonObject state, int start) {
        JsonObject schedule = new JsonObject();
        schedule.addProperty("peak", learningRate);
        if (decayFrom >= 0) {
            schedule.addProperty("linear_decay_from_step", decayFrom);
            schedule.addProperty("to_zero_after_step", steps);
        }
        ShapeWorldTraining.recordPhase(workDir, state, "learning_rate", start, steps, schedule, null);
    }

    /** Writes the EMA weights (float16) of the T5 encoder and the transformer into the model folder, in modules of their own. */
    private void export(Path emaFile, JsonObject state) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        int done = state.has("step") ? state.get("step").getAsInt() : 0;
        meta.put("steer_training_steps", Integer.toString(done));
        meta.put("steer_seed", Long.toString(seed));
        for (String phases : List.of("grounding", "learning_rate")) {
            if (state.has(phases)) {
                meta.put("steer_" + phases, state.get(phases).toString());
            }
        }
        exportWeights(emaFile, output, meta);
        log.accept("exported the EMA weights of step " + done + " to " + output);
    }

    /**
     * Writes weights from a work-folder file ({@code ema.safetensors}, or {@code model.safetensors} for
     * the live weights; names prefixed {@code transformer.} and {@code text_encoder_2.}) as the
     * float16 transformer and T5 files of a model folder that already holds their configs.
     */
    public static void exportWeights(Path prefixedWeights, Path modelFolder, Map<String, String> metadata) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            T5EncoderModel t5 = new T5EncoderModel(T5Config.load(modelFolder.resolve("text_encoder_2/config.json")));
            FluxTransformer2DModel transformer = new FluxTransformer2DModel(FluxTransformerConfig.load(modelFolder.resolve("transformer/config.json")));
            Map<String, Weight> params = new LinkedHashMap<>();
            t5.namedParameters().forEach((k, v) -> params.put("text_encoder_2." + k, v));
            transformer.namedParameters().forEach((k, v) -> params.put("transformer." + k, v));
            loadPrefixed(params, prefixedWeights, m);
            save(t5, modelFolder.resolve("text_encoder_2/model.safetensors"), metadata);
            save(transformer, modelFolder.resolve("transformer/diffusion_pytorch_model.safetensors"), metadata);
        }
    }

    private static void save(Module module, Path file, Map<String, String> meta) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        ModelWeights.save(module, tmp, TensorDType.F16, meta);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    // ---------------------------------------------------------------- the folder

    private JsonObject architecture() {
        JsonObject a = new JsonObject();
        a.addProperty("hidden", hidden);
        a.addProperty("double_blocks", doubleBlocks);
        a.addProperty("single_blocks", singleBlocks);
        a.addProperty("t5_d_model", t5Dim);
        a.addProperty("t5_layers", t5Layers);
        a.addProperty("text_length", textLength);
        a.addProperty("seed", seed);
        a.addProperty("batch", batchSize);
        return a;
    }

    private void writeFolder() throws IOException {
        for (String dir : List.of("vae", "text_encoder", "tokenizer")) {
            Path from = source.resolve(dir);
            if (!Files.isDirectory(from)) {
                throw new IllegalArgumentException("the source model " + source + " has no " + dir + "/ (expected the UNet ShapeWorld folder)");
            }
            Path to = output.resolve(dir);
            Files.createDirectories(to);
            try (var files = Files.list(from)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    if (Files.isRegularFile(f)) {
                        Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
        int vocab = ShapeWorldT5Vocabulary.pieces().size();
        write("model_index.json", """
                {
                  "_class_name": "FluxPipeline",
                  "_diffusers_version": "0.32.2",
                  "_steer_model": "ShapeWorld on FLUX.1's architecture: a small flow-matching model trained by steer on a synthetic world of coloured shapes",
                  "_steer_defaults": {"steps": 20, "guidance_scale": 5.0, "image_size": 32},
                  "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
                  "text_encoder": ["transformers", "CLIPTextModel"],
                  "text_encoder_2": ["transformers", "T5EncoderModel"],
                  "tokenizer": ["transformers", "CLIPTokenizer"],
                  "tokenizer_2": ["transformers", "T5TokenizerFast"],
                  "transformer": ["diffusers", "FluxTransformer2DModel"],
                  "vae": ["diffusers", "AutoencoderKL"]
                }
                """);
        int clipHidden = ClipTextConfig.load(output.resolve("text_encoder/config.json")).hiddenSize();
        int latentChannels = VaeConfig.load(output.resolve("vae/config.json")).latentChannels();
        write("transformer/config.json", String.format(Locale.ROOT, """
                {
                  "_class_name": "FluxTransformer2DModel",
                  "_diffusers_version": "0.32.2",
                  "patch_size": 1,
                  "in_channels": %d,
                  "out_channels": null,
                  "num_layers": %d,
                  "num_single_layers": %d,
                  "attention_head_dim": %d,
                  "num_attention_heads": %d,
                  "joint_attention_dim": %d,
                  "pooled_projection_dim": %d,
                  "guidance_embeds": false,
                  "axes_dims_rope": [%d, %d, %d]
                }
                """, latentChannels * 4, doubleBlocks, singleBlocks, HEAD_DIM, hidden / HEAD_DIM, t5Dim, clipHidden, AXES[0], AXES[1], AXES[2]));
        write("text_encoder_2/config.json", String.format(Locale.ROOT, """
                {
                  "architectures": ["T5EncoderModel"],
                  "model_type": "t5",
                  "vocab_size": %d,
                  "d_model": %d,
                  "d_kv": 16,
                  "num_heads": %d,
                  "d_ff": %d,
                  "num_layers": %d,
                  "feed_forward_proj": "gated-gelu",
                  "dense_act_fn": "gelu_new",
                  "is_gated_act": true,
                  "relative_attention_num_buckets": 32,
                  "relative_attention_max_distance": 128,
                  "layer_norm_epsilon": 1e-06,
                  "pad_token_id": 0,
                  "eos_token_id": 1,
                  "tie_word_embeddings": false,
                  "torch_dtype": "float16"
                }
                """, vocab, t5Dim, t5Dim / 16, 2 * t5Dim, t5Layers));
        write("tokenizer_2/tokenizer.json", ShapeWorldT5Vocabulary.tokenizerJson());
        write("tokenizer_2/special_tokens_map.json", """
                {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
                """);
        write("tokenizer_2/tokenizer_config.json", String.format(Locale.ROOT, """
                {"tokenizer_class": "T5TokenizerFast", "model_max_length": %d, "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>", "extra_ids": 0}
                """, textLength));
        write("scheduler/scheduler_config.json", """
                {
                  "_class_name": "FlowMatchEulerDiscreteScheduler",
                  "_diffusers_version": "0.32.2",
                  "num_train_timesteps": 1000,
                  "shift": 1.0,
                  "use_dynamic_shifting": false,
                  "base_shift": 0.5,
                  "max_shift": 1.15,
                  "base_image_seq_len": 256,
                  "max_image_seq_len": 4096,
                  "invert_sigmas": false,
                  "shift_terminal": null,
                  "use_karras_sigmas": false,
                  "use_exponential_sigmas": false,
                  "use_beta_sigmas": false
                }
                """);
    }

    private void write(String relative, String text) throws IOException {
        Path to = output.resolve(relative);
        Files.createDirectories(to.getParent());
        Files.writeString(to, text);
    }

    /**
     * Configures a {@link FluxShapeWorldTrainer}: work folder, output folder and source folder are
     * required; the rest default to the settings of the embedded model.
     */
    public static final class Builder {
        private Path workDir;
        private Path output;
        private Path source;
        private long seed = 20261203L;
        private int batchSize = 32;
        private int steps = 4_000;
        private float learningRate = 3e-4f;
        private int warmupSteps = 200;
        private int decayFrom = -1;
        private float emaDecay = 0.999f;
        private float maxGradNorm = 1f;
        private float groundingWeight = 0f;
        private float captionDropout = 0.1f;
        private int checkpointEvery = 250;
        private int hidden = 128;
        private int doubleBlocks = 2;
        private int singleBlocks = 2;
        private int t5Dim = 64;
        private int t5Layers = 2;
        private int textLength = 32;
        private Consumer<String> log = LOG::info;
        private Progress progress;

        private Builder() {
        }

        /** Where checkpoints and progress are kept (resume reads them). */
        public Builder setWorkDir(Path dir) {
            this.workDir = dir;
            return this;
        }

        /** The diffusers FLUX folder to write. */
        public Builder setOutput(Path dir) {
            this.output = dir;
            return this;
        }

        /** The UNet ShapeWorld model folder whose {@code vae/}, {@code text_encoder/} and {@code tokenizer/} are reused (frozen). */
        public Builder setSource(Path dir) {
            this.source = dir;
            return this;
        }

        /** Seed of everything random. */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Scenes per batch. */
        public Builder optBatchSize(int n) {
            this.batchSize = n;
            return this;
        }

        /** Training steps in all (a run with more steps than done continues). */
        public Builder optSteps(int n) {
            this.steps = n;
            return this;
        }

        /** Peak learning rate. */
        public Builder optLearningRate(float lr) {
            this.learningRate = lr;
            return this;
        }

        /** Steps of linear learning-rate warm-up. */
        public Builder optWarmupSteps(int n) {
            this.warmupSteps = n;
            return this;
        }

        /**
         * Anneals the learning rate: from {@code step} on it falls linearly from the peak to zero
         * after the last step ({@link #optSteps}); by default it stays at the peak after warm-up. A
         * resumed run may add or move the decay; {@code state.json} and the export's metadata keep
         * each schedule with the step it began.
         */
        public Builder optDecayFrom(int step) {
            this.decayFrom = step;
            return this;
        }

        /** Decay of the exponential moving average that is exported. */
        public Builder optEmaDecay(float decay) {
            this.emaDecay = decay;
            return this;
        }

        /** Global gradient norm to clip to. */
        public Builder optMaxGradNorm(float norm) {
            this.maxGradNorm = norm;
            return this;
        }

        /** Weight of the {@link AttentionGrounding} loss on the blocks' image->text attention; 0 (default) trains on captions alone. */
        public Builder optGroundingWeight(float weight) {
            this.groundingWeight = weight;
            return this;
        }

        /** Probability of an empty caption (for classifier-free guidance). */
        public Builder optCaptionDropout(float p) {
            this.captionDropout = p;
            return this;
        }

        /** Steps between checkpoints (each also exports the EMA weights). */
        public Builder optCheckpointEvery(int n) {
            this.checkpointEvery = n;
            return this;
        }

        /** Transformer width (a multiple of 32: heads of 32). */
        public Builder optHidden(int width) {
            this.hidden = width;
            return this;
        }

        /** Double-stream and single-stream block counts. */
        public Builder optBlocks(int doubleStream, int singleStream) {
            this.doubleBlocks = doubleStream;
            this.singleBlocks = singleStream;
            return this;
        }

        /** T5 width (a multiple of 16: heads of 16) and layers. */
        public Builder optT5(int dModel, int layers) {
            this.t5Dim = dModel;
            this.t5Layers = layers;
            return this;
        }

        /**
         * T5 tokens per caption, padded (default 32; the longest ShapeWorld caption has 13). The
         * folder declares it as {@code tokenizer_2/tokenizer_config.json}'s {@code model_max_length},
         * which {@code FluxPipeline} honours when it is below its default (256 for a model without
         * guidance embedding), so sampling pads as training did. 256 tokens made a step 4x slower
         * (6.3 s against 1.6 s at hidden 128, 2 + 2 blocks, batch 32, one thread).
         */
        public Builder optTextLength(int tokens) {
            this.textLength = tokens;
            return this;
        }

        /** Where progress lines go (default standard output). */
        public Builder optLog(Consumer<String> log) {
            this.log = log;
            return this;
        }

        /**
         * Reports the training steps to {@code progress} (for example DJL's
         * {@code ai.djl.training.util.ProgressBar}, or an adapter to a progress bar of your own):
         * {@code reset("FLUX transformer and T5", total)} with the run's total steps, {@code start(done)}
         * with the steps a resumed run already has, {@code update(step, message)} after each step (the
         * message gives the step's loss), {@code end()} when the last step is done. A run that is
         * already complete reports nothing. Called on the training thread; the library itself never
         * prints.
         */
        public Builder optProgress(Progress progress) {
            this.progress = progress;
            return this;
        }

        /** The trainer. */
        public FluxShapeWorldTrainer build() {
            if (workDir == null || output == null || source == null) {
                throw new IllegalStateException("setWorkDir, setOutput and setSource are required");
            }
            if (!(groundingWeight >= 0) || Float.isInfinite(groundingWeight)) {
                throw new IllegalArgumentException("the grounding weight must be a finite number >= 0, got " + groundingWeight);
            }
            if (!(captionDropout >= 0 && captionDropout < 1)) {
                throw new IllegalArgumentException("caption dropout must be in [0, 1), got " + captionDropout);
            }
            if (batchSize < 1 || steps < 0 || checkpointEvery < 1 || warmupSteps < 1 || textLength < 2) {
                throw new IllegalArgumentException("batch size, steps, warm-up, checkpoint interval and text length must be positive");
            }
            if (decayFrom < -1 || (decayFrom >= 0 && decayFrom >= steps)) {
                throw new IllegalArgumentException("the learning-rate decay must start before the last step (" + steps + "), got " + decayFrom);
            }
            if (hidden < HEAD_DIM || hidden % HEAD_DIM != 0 || t5Dim < 16 || t5Dim % 16 != 0 || doubleBlocks < 0 || singleBlocks < 0
                    || doubleBlocks + singleBlocks == 0 || t5Layers < 1) {
                throw new IllegalArgumentException("hidden must be a multiple of " + HEAD_DIM + ", the T5 width a multiple of 16, and there must be blocks");
            }
            return new FluxShapeWorldTrainer(this);
        }
    }
}
