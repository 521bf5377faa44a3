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
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.steer.core.model.ClipTextConfig;
import dev.steer.core.model.UNetConfig;
import dev.steer.core.model.VaeConfig;
import dev.steer.core.scheduler.Schedulers;
import dev.steer.core.shapeworld.Scene;
import dev.steer.core.tokenizer.ClipTokenizer;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.TensorDType;
import dev.steer.pytorch.clip.ClipTextModel;
import dev.steer.pytorch.nn.GradientSection;
import dev.steer.pytorch.internal.nn.Scalars;
import dev.steer.pytorch.nn.Weight;
import dev.steer.pytorch.unet.UNet2DConditionModel;
import dev.steer.pytorch.vae.AutoencoderKL;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.io.IOException;
import java.io.InputStream;
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
 * Trains the embedded ShapeWorld text-to-image model from scratch, with the library's own model
 * classes, into a diffusers model folder that loads like any Stable Diffusion folder.
 *
 * <p>Two stages: an {@link AutoencoderKL} (32x32 images to 16x16x4 latents, its scaling factor
 * set to 1 / the latents' standard deviation), then the {@link UNet2DConditionModel} and the
 * CLIP-architecture {@link ClipTextModel} (real CLIP tokenizer) jointly, on noise prediction with
 * min-SNR-5 weighting, 10% empty captions for classifier-free guidance, AdamW with the gradients'
 * global norm clipped to 1 (a step whose gradient is not finite is skipped), and an exponential
 * moving average of the weights, which is what the exported folder holds. Optionally
 * ({@link Builder#optGroundingWeight}) an {@link AttentionGrounding} loss ties each colour and shape
 * word's cross-attention to its object's box.
 *
 * <p>Everything is seeded per step (a batch depends only on the seed and the step number), and the
 * work folder keeps checkpoints (weights, EMA, optimizer moments, progress), so {@link #run()}
 * resumes an interrupted run exactly and training can span sessions.
 */
public final class ShapeWorldTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(ShapeWorldTrainer.class);
    /** Times a step's gradient is computed before a non-finite one counts as divergence. */
    private static final int GRADIENT_ATTEMPTS = 3;

    private static final String RESOURCES = "/dev/steer/pytorch/shapeworld/";
    private static final Gson GSON = ShapeWorldTraining.GSON;

    private final Path workDir;
    private final Path output;
    private final Path tokenizerSource;
    private final long seed;
    private final int batchSize;
    private final int vaeSteps;
    private final int steps;
    private final float learningRate;
    private final float emaDecay;
    private final float maxGradNorm;
    private final float groundingWeight;
    private final int checkpointEvery;
    private final Consumer<String> log;
    private final Progress progress;

    private ShapeWorldTrainer(Builder b) {
        this.workDir = b.workDir;
        this.output = b.output;
        this.tokenizerSource = b.tokenizerSource;
        this.seed = b.seed;
        this.batchSize = b.batchSize;
        this.vaeSteps = b.vaeSteps;
        this.steps = b.steps;
        this.learningRate = b.learningRate;
        this.emaDecay = b.emaDecay;
        this.maxGradNorm = b.maxGradNorm;
        this.groundingWeight = b.groundingWeight;
        this.checkpointEvery = b.checkpointEvery;
        this.log = b.log;
        this.progress = b.progress;
    }

    /** Starts configuring a training run. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs (or resumes) both stages up to the configured step counts and exports the model folder.
     *
     * @return the model folder
     */
    public Path run() throws IOException {
        writeFolderSkeleton();
        JsonObject state = readState();
        try (NDManager manager = NDManager.newBaseManager()) {
            AutoencoderKL vae = new AutoencoderKL(VaeConfig.load(output.resolve("vae/config.json")));
            int vaeDone = state.has("vae_step") ? state.get("vae_step").getAsInt() : 0;
            if (vaeDone < vaeSteps || !Files.exists(output.resolve("vae/diffusion_pytorch_model.safetensors"))) {
                trainVae(vae, manager, vaeDone, state);
            } else {
                ModelWeights.load(vae, List.of(output.resolve("vae/diffusion_pytorch_model.safetensors")), manager);
            }
            float scaling = VaeConfig.load(output.resolve("vae/config.json")).scalingFactor();
            trainDiffusion(vae, scaling, manager, state);
        }
        return output;
    }

    // ---------------------------------------------------------------- stage 1: the autoencoder

    private void trainVae(AutoencoderKL vae, NDManager manager, int start, JsonObject state) throws IOException {
        Path ckpt = workDir.resolve("vae.safetensors");
        if (start > 0 && Files.exists(ckpt)) {
            ModelWeights.load(vae, List.of(ckpt), manager);
        } else {
            ModelWeights.randomize(vae, seed, manager);
            start = 0;
        }
        vae.setRequiresGradient(true);
        AdamW opt = new AdamW(vae.namedParameters(), 0.0);
        restoreOptimizer(opt, workDir.resolve("vae-adamw.safetensors"), start);
        progressStart(progress, "autoencoder", vaeSteps, start);
        String status = null;
        long t0 = System.nanoTime();
        double lossSum = 0;
        for (int step = start; step < vaeSteps; step++) {
            Random rng = stepRandom(1, step);
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = images(scope, rng, null, null);
                int f = vae.config().downsampleFactor();
                Shape latent = new Shape(x.getShape().get(0), vae.config().latentChannels(), x.getShape().get(2) / f, x.getShape().get(3) / f);
                NDArray noise = scope.create(gaussian(rng, Math.toIntExact(latent.size())), latent);
                float loss = 0;
                // LibTorch 2.7.1's oneDNN convolution backward occasionally returns NaN gradients from
                // finite inputs (mostly a shape's first call; see Conv2d); the same step recomputed is
                // finite and identical to an undisturbed one, so the run stays exactly resumable
                for (int attempt = 1; attempt <= GRADIENT_ATTEMPTS; attempt++) {
                    try (GradientSection gc = GradientSection.open()) {
                        var dist = vae.encode(x);
                        NDArray z = dist.sample(noise);
                        NDArray rec = vae.decode(z).sub(x).square().mean();
                        NDArray kl = dist.mean().square().add(dist.logvar().exp()).sub(dist.logvar()).sub(1f).mean();
                        NDArray total = rec.add(Scalars.mul(kl, 0.5e-4f)); // 1e-4 x the KL divergence
                        loss = rec.getFloat();
                        gc.backward(total);
                    }
                    requireFinite("autoencoder", step, loss, state.has("vae_step") ? state.get("vae_step").getAsInt() : 0);
                    if (Double.isFinite(opt.clipGradNorm(scope, Double.POSITIVE_INFINITY))) { // zeroes non-finite gradients
                        break;
                    }
                    LOG.warn("autoencoder step {}: non-finite gradient from a finite loss (attempt {}), recomputing", step + 1, attempt);
                    requireFinite("autoencoder", step, attempt == GRADIENT_ATTEMPTS ? Float.NaN : 0f,
                            state.has("vae_step") ? state.get("vae_step").getAsInt() : 0);
                }
                opt.update(scope, learningRate * 3 * warmup(step, 100));
                lossSum += loss;
                status = String.format(Locale.ROOT, "mse %.5f", loss);
            }
            if ((step + 1) % 50 == 0) {
                log.accept(String.format(Locale.ROOT, "vae step %d/%d: reconstruction mse %.5f, %.2fs/step", step + 1, vaeSteps,
                        lossSum / 50, (System.nanoTime() - t0) / 1e9 / 50));
                lossSum = 0;
                t0 = System.nanoTime();
            }
            if ((step + 1) % checkpointEvery == 0 || step + 1 == vaeSteps) {
                ModelWeights.save(vae, ckpt, TensorDType.F32, Map.of());
                saveOptimizer(opt, workDir.resolve("vae-adamw.safetensors"));
                state.addProperty("vae_step", step + 1);
                writeState(state);
            }
            progressStep(progress, step + 1, status);
        }
        progressEnd(progress);
        vae.setRequiresGradient(false);
        float scaling = latentScaling(vae, manager);
        Path cfg = output.resolve("vae/config.json");
        JsonObject json = JsonParser.parseString(Files.readString(cfg)).getAsJsonObject();
        json.addProperty("scaling_factor", scaling);
        Files.writeString(cfg, GSON.toJson(json));
        ModelWeights.save(vae, output.resolve("vae/diffusion_pytorch_model.safetensors"), TensorDType.F32, Map.of());
        log.accept(String.format(Locale.ROOT, "vae done: latent scaling factor %.4f", scaling));
    }

    /** 1 / standard deviation of the latent means over 256 scenes. */
    private float latentScaling(AutoencoderKL vae, NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            double sum = 0;
            double sq = 0;
            long n = 0;
            for (int b = 0; b < 8; b++) {
                float[] z = vae.encode(images(scope, stepRandom(2, b), null, null)).mean().toFloatArray();
                for (float v : z) {
                    sum += v;
                    sq += (double) v * v;
                }
                n += z.length;
            }
            double mean = sum / n;
            return (float) (1.0 / Math.sqrt(sq / n - mean * mean));
        }
    }

    // ---------------------------------------------------------------- stage 2: UNet + text encoder

    private void trainDiffusion(AutoencoderKL vae, float scaling, NDManager manager, JsonObject state) throws IOException {
        int start = state.has("step") ? state.get("step").getAsInt() : 0;
        ClipTokenizer tokenizer = ClipTokenizer.fromFolder(output.resolve("tokenizer"));
        ClipTextModel text = new ClipTextModel(ClipTextConfig.load(output.resolve("text_encoder/config.json")));
        UNet2DConditionModel unet = new UNet2DConditionModel(UNetConfig.load(output.resolve("unet/config.json")));
        Map<String, Weight> params = new LinkedHashMap<>();
        text.namedParameters().forEach((k, v) -> params.put("text_encoder." + k, v));
        unet.namedParameters().forEach((k, v) -> params.put("unet." + k, v));
        Path ckpt = workDir.resolve("model.safetensors");
        Path emaFile = workDir.resolve("ema.safetensors");
        if (start > 0 && Files.exists(ckpt)) {
            loadPrefixed(params, ckpt, manager);
        } else {
            ModelWeights.randomize(text, seed + 11, manager);
            ModelWeights.randomize(unet, seed + 12, manager);
            start = 0;
        }
        if (start >= steps) {
            exportEma(text, unet, emaFile, manager, params, state);
            return;
        }
        text.setRequiresGradient(true);
        unet.setRequiresGradient(true);
        AdamW opt = new AdamW(params, 0.01);
        restoreOptimizer(opt, workDir.resolve("adamw.safetensors"), start);
        progressStart(progress, "UNet and text encoder", steps, start);
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
            double[] alphasCumprod = Schedulers.load(output.resolve("scheduler")).alphasCumprod();
            int trainSteps = alphasCumprod.length;
            long t0 = System.nanoTime();
            double lossSum = 0;
            double normSum = 0;
            int skipped = 0;
            double[] insideShare = new double[1];
            double insideSum = 0;
            int groundedSteps = 0;
            ShapeWorldTraining.recordGrounding(workDir, state, start, steps, groundingWeight);
            String status = null;
            for (int step = start; step < steps; step++) {
                Random rng = stepRandom(3, step);
                try (NDManager scope = manager.newSubManager()) {
                    String[] captions = new String[batchSize];
                    Scene[] scenes = new Scene[batchSize];
                    NDArray x = images(scope, rng, captions, scenes);
                    long[] ids = new long[batchSize * tokenizer.maxLength()];
                    TokenizedPrompt[] tokenized = new TokenizedPrompt[batchSize];
                    for (int i = 0; i < batchSize; i++) {
                        tokenized[i] = tokenizer.tokenize(rng.nextDouble() < 0.1 ? "" : captions[i]);
                        System.arraycopy(tokenized[i].idsAsLongs(), 0, ids, i * tokenizer.maxLength(), tokenizer.maxLength());
                    }
                    AttentionGrounding grounding = groundingWeight > 0 ? AttentionGrounding.of(scenes, tokenized) : null;
                    NDArray z0 = Scalars.mul(vae.encode(x).mean(), scaling);
                    Shape zs = z0.getShape();
                    int per = (int) (zs.size() / batchSize);
                    float[] noise = gaussian(rng, (int) zs.size());
                    float[] a = new float[batchSize];
                    float[] s = new float[batchSize];
                    float[] weight = new float[batchSize];
                    long[] t = new long[batchSize];
                    for (int i = 0; i < batchSize; i++) {
                        t[i] = rng.nextInt(trainSteps);
                        double ab = alphasCumprod[(int) t[i]];
                        a[i] = (float) Math.sqrt(ab);
                        s[i] = (float) Math.sqrt(1 - ab);
                        double snr = ab / (1 - ab);
                        weight[i] = (float) (Math.min(snr, 5.0) / snr); // min-SNR-5 for epsilon prediction
                    }
                    NDArray eps = scope.create(noise, zs);
                    Shape col = new Shape(batchSize, 1, 1, 1);
                    NDArray zt = z0.mul(scope.create(a, col)).add(eps.mul(scope.create(s, col)));
                    float loss;
                    try (GradientSection gc = GradientSection.open()) {
                        NDArray ctx = text.forward(scope.create(ids, new Shape(batchSize, tokenizer.maxLength())));
                        NDArray pred = unet.forward(zt, scope.create(t), ctx, grounding == null ? null : grounding.hook());
                        NDArray perSample = pred.sub(eps).square().reshape(batchSize, per).mean(new int[] {1});
                        NDArray total = perSample.mul(scope.create(weight)).mean();
                        loss = perSample.mean().getFloat();
                        NDArray groundingLoss = grounding == null ? null : grounding.loss(scope, insideShare);
                        if (groundingLoss != null) {
                            total = total.add(Scalars.mul(groundingLoss, groundingWeight));
                            insideSum += insideShare[0];
                            groundedSteps++;
                        }
                        gc.backward(total);
                    }
                    requireFinite("diffusion", step, loss, state.has("step") ? state.get("step").getAsInt() : 0);
                    double norm = opt.clipGradNorm(scope, maxGradNorm);
                    if (Double.isFinite(norm)) {
                        opt.update(scope, learningRate * warmup(step, 200));
                        updateEma(ema, params, emaDecay);
                        normSum += norm;
                    } else {
                        skipped++; // a non-finite gradient from a finite loss: drop the step, keep the weights
                    }
                    lossSum += loss;
                    status = String.format(Locale.ROOT, "mse %.5f", loss);
                }
                if ((step + 1) % 50 == 0) {
                    log.accept(String.format(Locale.ROOT, "step %d/%d: noise mse %.5f, grad norm %.3f, %.2fs/step%s%s", step + 1, steps,
                            lossSum / 50, normSum / Math.max(1, 50 - skipped), (System.nanoTime() - t0) / 1e9 / 50,
                            groundedSteps > 0 ? String.format(Locale.ROOT, ", attention inside the named box %.3f", insideSum / groundedSteps) : "",
                            skipped > 0 ? ", " + skipped + " steps skipped (non-finite gradient)" : ""));
                    insideSum = 0;
                    groundedSteps = 0;
                    lossSum = 0;
                    normSum = 0;
                    skipped = 0;
                    t0 = System.nanoTime();
                }
                if ((step + 1) % checkpointEvery == 0 || step + 1 == steps) {
                    savePrefixed(params, ckpt);
                    saveArrays(ema, emaFile);
                    saveOptimizer(opt, workDir.resolve("adamw.safetensors"));
                    state.addProperty("step", step + 1);
                    writeState(state);
                }
                progressStep(progress, step + 1, status);
            }
        }
        progressEnd(progress);
        text.setRequiresGradient(false);
        unet.setRequiresGradient(false);
        exportEma(text, unet, emaFile, manager, params, state);
    }

    private void exportEma(ClipTextModel text, UNet2DConditionModel unet, Path emaFile, NDManager manager,
            Map<String, Weight> params, JsonObject state) {
        loadPrefixed(params, emaFile, manager);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("steer_training_steps", Integer.toString(steps));
        meta.put("steer_seed", Long.toString(seed));
        if (state.has("grounding")) {
            meta.put("steer_grounding", state.get("grounding").toString());
        }
        ModelWeights.save(text, output.resolve("text_encoder/model.safetensors"), TensorDType.F16, meta);
        ModelWeights.save(unet, output.resolve("unet/diffusion_pytorch_model.safetensors"), TensorDType.F16, meta);
        log.accept("exported EMA weights to " + output);
    }

    // ---------------------------------------------------------------- data

    private NDArray images(NDManager scope, Random rng, String[] captions, Scene[] scenes) {
        return ShapeWorldTraining.images(scope, rng, batchSize, captions, scenes);
    }

    private Random stepRandom(int stage, int step) {
        return ShapeWorldTraining.stepRandom(seed, stage, step);
    }

    // ---------------------------------------------------------------- files

    private void writeFolderSkeleton() throws IOException {
        Files.createDirectories(workDir);
        copyResource("model_index.json", output.resolve("model_index.json"));
        copyResource("unet_config.json", output.resolve("unet/config.json"));
        copyResource("text_encoder_config.json", output.resolve("text_encoder/config.json"));
        if (!Files.exists(output.resolve("vae/config.json"))) {
            copyResource("vae_config.json", output.resolve("vae/config.json"));
        }
        copyResource("scheduler_config.json", output.resolve("scheduler/scheduler_config.json"));
        copyResource("tokenizer_config.json", output.resolve("tokenizer/tokenizer_config.json"));
        copyResource("special_tokens_map.json", output.resolve("tokenizer/special_tokens_map.json"));
        for (String f : List.of("vocab.json", "merges.txt")) {
            Path from = tokenizerSource.resolve(f);
            if (!Files.isRegularFile(from)) {
                throw new IllegalArgumentException("the CLIP tokenizer source " + tokenizerSource + " has no " + f);
            }
            Files.copy(from, output.resolve("tokenizer").resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void copyResource(String name, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        try (InputStream in = ShapeWorldTrainer.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + RESOURCES + name);
            }
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private JsonObject readState() throws IOException {
        return ShapeWorldTraining.readState(workDir);
    }

    private void writeState(JsonObject state) {
        ShapeWorldTraining.writeState(workDir, state);
    }

    /**
     * Configures a {@link ShapeWorldTrainer}: work folder, output folder and tokenizer source are
     * required; the rest have the settings of the embedded model (which ran --steps 6500, then 9500 with grounding 0.1).
     */
    public static final class Builder {
        private Path workDir;
        private Path output;
        private Path tokenizerSource;
        private long seed = 20261128L;
        private int batchSize = 32;
        private int vaeSteps = 400;
        private int steps = 4_000;
        private float learningRate = 3e-4f;
        private float emaDecay = 0.999f;
        private float maxGradNorm = 1f;
        private float groundingWeight = 0f;
        private int checkpointEvery = 250;
        private Consumer<String> log = LOG::info;
        private Progress progress;

        private Builder() {
        }

        /** Where checkpoints and progress are kept (resume reads them). */
        public Builder setWorkDir(Path dir) {
            this.workDir = dir;
            return this;
        }

        /** The diffusers model folder to write. */
        public Builder setOutput(Path dir) {
            this.output = dir;
            return this;
        }

        /** A folder with the CLIP {@code vocab.json} and {@code merges.txt} to ship with the model. */
        public Builder setTokenizerSource(Path dir) {
            this.tokenizerSource = dir;
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

        /** Autoencoder training steps. */
        public Builder optVaeSteps(int n) {
            this.vaeSteps = n;
            return this;
        }

        /** UNet and text encoder training steps (a run with more steps than done continues). */
        public Builder optSteps(int n) {
            this.steps = n;
            return this;
        }

        /** Peak learning rate of the UNet stage (the autoencoder uses 3x). */
        public Builder optLearningRate(float lr) {
            this.learningRate = lr;
            return this;
        }

        /** Decay of the exponential moving average that is exported. */
        public Builder optEmaDecay(float decay) {
            this.emaDecay = decay;
            return this;
        }

        /** Global gradient norm the UNet stage clips to (the first run without clipping diverged at step ~700). */
        public Builder optMaxGradNorm(float norm) {
            this.maxGradNorm = norm;
            return this;
        }

        /**
         * Weight of the {@link AttentionGrounding} loss (colour and shape words attend inside their
         * object's box) added to the noise loss; 0 (default) trains on captions alone.
         */
        public Builder optGroundingWeight(float weight) {
            this.groundingWeight = weight;
            return this;
        }

        /** Steps between checkpoints. */
        public Builder optCheckpointEvery(int n) {
            this.checkpointEvery = n;
            return this;
        }

        /** Where progress lines go (default standard output). */
        public Builder optLog(Consumer<String> log) {
            this.log = log;
            return this;
        }

        /**
         * Reports the training steps to {@code progress} (for example DJL's
         * {@code ai.djl.training.util.ProgressBar}, or an adapter to a progress bar of your own), once per
         * stage that trains: {@code reset(stage, total)} with the stage's name ({@code "autoencoder"},
         * then {@code "UNet and text encoder"}) and its total steps, {@code start(done)} with the steps a
         * resumed run already has, {@code update(step, message)} after each step (the message gives the
         * step's loss), {@code end()} when the stage is done. A stage that is already complete reports
         * nothing. Called on the training thread; the library itself never prints.
         */
        public Builder optProgress(Progress progress) {
            this.progress = progress;
            return this;
        }

        /** The trainer. */
        public ShapeWorldTrainer build() {
            if (workDir == null || output == null || tokenizerSource == null) {
                throw new IllegalStateException("setWorkDir, setOutput and setTokenizerSource are required");
            }
            if (!(groundingWeight >= 0) || Float.isInfinite(groundingWeight)) {
                throw new IllegalArgumentException("the grounding weight must be a finite number >= 0, got " + groundingWeight);
            }
            if (batchSize < 1 || steps < 0 || vaeSteps < 1 || checkpointEvery < 1) {
                throw new IllegalArgumentException("batch size, steps and checkpoint interval must be positive");
            }
            return new ShapeWorldTrainer(this);
        }
    }
}
