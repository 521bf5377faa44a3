package dev.steer.pytorch.pipeline;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.util.Progress;
import dev.steer.core.engine.GenerationEngine;
import dev.steer.core.engine.StepObserver;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.InitialNoise;
import dev.steer.core.generation.ProgressListener;
import dev.steer.core.generation.Sampler;
import dev.steer.core.model.ClipTextConfig;
import dev.steer.core.model.ModelFolder;
import dev.steer.core.model.UNetConfig;
import dev.steer.core.model.VaeConfig;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.scheduler.Scheduler;
import dev.steer.core.scheduler.SchedulerType;
import dev.steer.core.scheduler.Schedulers;
import dev.steer.core.tokenizer.ClipTokenizer;
import dev.steer.pytorch.clip.ClipTextModel;
import dev.steer.pytorch.relation.PublishedRelationClassifier;
import dev.steer.pytorch.relation.TorchRelationClassifier;
import dev.steer.pytorch.unet.UNet2DConditionModel;
import dev.steer.pytorch.vae.AutoencoderKL;
import dev.steer.pytorch.internal.weights.LoadProgress;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Stable Diffusion (1.x / 2.x) text-to-image pipeline on LibTorch: a diffusers model folder
 * loaded into {@link ClipTextModel}, {@link UNet2DConditionModel} and {@link AutoencoderKL}, with
 * the folder's scheduler, run as diffusers' {@code StableDiffusionPipeline} does (classifier-free
 * guidance on the batch [unconditional, conditional]).
 *
 * <pre>{@code
 * try (StableDiffusion sd = StableDiffusion.builder().setModelFolder(Path.of("sd-1.5")).build()) {
 *     sd.generate(GenerationRequest.builder("a red cube left of a blue ball").optSeed(7).build())
 *       .save(Path.of("out.png"));
 * }
 * }</pre>
 *
 * <p>Generation runs through the core {@link GenerationEngine} (the loop, steering, pictures,
 * progress, cancellation, several images per call) over this backend's {@link TorchDiffusionBackend}.
 * Initial noise comes from {@link InitialNoise} (seeded {@link java.util.Random}). All native
 * memory is owned by this object and released by {@link #close()}; each generation runs in its
 * own scope, each denoiser call in a nested one.
 *
 * <p>Threading: one instance is not thread-safe; use one instance per thread. Several instances may
 * generate, and steer, at the same time on different threads, with the same images as one after
 * the other: the gradient of each steering evaluation is computed inside a
 * {@link dev.steer.pytorch.nn.GradientSection}, which serialises the (process-wide) DJL gradient
 * collector, so steering evaluations take turns while everything else runs in parallel.
 */
public final class StableDiffusion implements Sampler {
    private static final Logger LOG = LoggerFactory.getLogger(StableDiffusion.class);

    private final NDManager manager;
    private final ClipTokenizer tokenizer;
    private final ClipTextModel textEncoder;
    private final UNet2DConditionModel unet;
    private final AutoencoderKL vae;
    private final Scheduler scheduler;
    private final TorchRelationClassifier classifier;
    private final String description;
    private final int vaeScale;
    private final GenerationEngine<NDArray> engine;

    private StableDiffusion(NDManager manager, ClipTokenizer tokenizer, ClipTextModel textEncoder, UNet2DConditionModel unet,
            AutoencoderKL vae, Scheduler scheduler, TorchRelationClassifier classifier, String description) {
        this.manager = manager;
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.unet = unet;
        this.vae = vae;
        this.scheduler = scheduler;
        this.classifier = classifier;
        this.description = description;
        this.vaeScale = 1 << (vae.config().blockOutChannels().length - 1);
        this.engine = new GenerationEngine<>(new TorchDiffusionBackend(this));
    }

    /** Starts configuring a pipeline. */
    public static Builder builder() {
        return new Builder();
    }

    /** The tokenizer. */
    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    /** The text encoder. */
    public ClipTextModel textEncoder() {
        return textEncoder;
    }

    /** The denoiser. */
    public UNet2DConditionModel unet() {
        return unet;
    }

    /** The autoencoder. */
    public AutoencoderKL vae() {
        return vae;
    }

    /** The scheduler from the model folder (or the one chosen in the builder). */
    public Scheduler scheduler() {
        return scheduler;
    }

    /** The relation classifier used for steering, or null when none was loaded. */
    public TorchRelationClassifier relationClassifier() {
        return classifier;
    }

    /** The manager owning the weights; generation scopes are its children. */
    public NDManager manager() {
        return manager;
    }

    /** Pixels per latent cell (8 for SD). */
    public int vaeScaleFactor() {
        return vaeScale;
    }

    @Override
    public String modelDescription() {
        return description;
    }

    /**
     * Encodes token ids [1, 77] to the text encoder's last hidden state [1, 77, D] in {@code scope}.
     *
     * @throws IllegalArgumentException if an id is outside the text encoder's vocabulary (tokenizer and
     *     text encoder from different models)
     */
    public NDArray encodeIds(NDManager scope, long[] ids) {
        int vocab = textEncoder.config().vocabSize();
        int maxPositions = textEncoder.config().maxPositionEmbeddings();
        if (ids.length > maxPositions) {
            throw new IllegalArgumentException(ids.length + " tokens exceed the text encoder's " + maxPositions + " positions");
        }
        for (long id : ids) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " is outside the text encoder's vocabulary of " + vocab
                        + ": the tokenizer and the text encoder belong to different models");
            }
        }
        return textEncoder.forward(scope.create(ids, new Shape(1, ids.length)));
    }

    /** Tokenizes and encodes a prompt. */
    public NDArray encodePrompt(NDManager scope, String prompt) {
        return encodeIds(scope, tokenizer.tokenize(prompt).idsAsLongs());
    }

    /** The generation engine running this pipeline (its loop, for callers holding encoded prompts). */
    public GenerationEngine<NDArray> engine() {
        return engine;
    }

    /**
     * The denoising loop with classifier-free guidance, on prompts encoded in a scope of the caller.
     *
     * @param cond conditional hidden states [1, T, D]
     * @param uncond unconditional hidden states [1, T, D] (unused when guidance is 1 or less)
     * @param initLatents initial latent already scaled by the schedule's init noise sigma, [C * h * w]
     * @param schedule a fresh schedule
     * @param listener called after each step; may be null
     * @return the final latent
     */
    public float[] denoise(NDArray cond, NDArray uncond, float[] initLatents, int latentHeight, int latentWidth,
            Schedule schedule, float guidance, ProgressListener listener) {
        return denoise(cond, uncond, initLatents, latentHeight, latentWidth, schedule, guidance, null, listener);
    }

    /**
     * The denoising loop with an optional {@link StepObserver} that probes chosen steps' cross-attention;
     * intermediates live in sub-scopes of {@code cond}'s manager.
     */
    public float[] denoise(NDArray cond, NDArray uncond, float[] initLatents, int latentHeight, int latentWidth,
            Schedule schedule, float guidance, StepObserver observer, ProgressListener listener) {
        try (TorchDiffusionBackend.Scope scope = TorchDiffusionBackend.Scope.borrowing(this, cond.getManager())) {
            return engine.denoise(scope, cond, uncond, initLatents, latentHeight, latentWidth, schedule, guidance, observer, listener);
        }
    }

    /** Decodes a diffusion latent (unscaled by the VAE's scaling factor here) to [3, H, W] values in about [-1, 1]. */
    public float[] decode(NDManager scope, float[] latents, int latentHeight, int latentWidth) {
        try (NDManager sub = scope.newSubManager()) {
            NDArray z = sub.create(latents, new Shape(1, vae.config().latentChannels(), latentHeight, latentWidth));
            return vae.decodeScaled(z).toFloatArray();
        }
    }

    @Override
    public GenerationResult generate(GenerationRequest request) {
        return engine.generate(request);
    }

    @Override
    public List<GenerationResult> generateAll(List<GenerationRequest> requests) {
        return engine.generateAll(requests);
    }

    /** Releases the classifier and every array of the model. */
    @Override
    public void close() {
        engine.close();
    }

    /**
     * Configures a {@link StableDiffusion}: the model folder is required; device, weight variant and
     * scheduler are optional. {@link #optRandomWeights} builds the models from their configs with
     * seeded random weights (for benchmarks of real-size architectures without a download).
     */
    public static final class Builder {
        private Path folder;
        private String variant;
        private Device device;
        private SchedulerType schedulerType;
        private Long randomSeed;
        private Path classifierPath;
        private Progress progress;

        private Builder() {
        }

        /**
         * The model shipped as a Maven artifact {@code dev.steer:steer-model-<name>} (for example
         * {@link dev.steer.core.model.EmbeddedModels#SHAPEWORLD}) with its relation classifier, copied
         * out of the classpath on first use ({@link dev.steer.core.model.EmbeddedModels#folder}): no
         * checkout path needed. Replaces {@link #setModelFolder}; {@link #optRelationClassifier} after
         * this call overrides the classifier.
         *
         * @throws dev.steer.core.model.ModelConfigException when the artifact is not on the classpath
         */
        public Builder setEmbeddedModel(String name) {
            this.folder = dev.steer.core.model.EmbeddedModels.folder(name);
            Path classifier = folder.resolve("classifier");
            this.classifierPath = java.nio.file.Files.isDirectory(classifier) ? classifier : null;
            return this;
        }

        /** The diffusers model folder (holding unet/, text_encoder/, tokenizer/, vae/, scheduler/). */
        public Builder setModelFolder(Path folder) {
            this.folder = folder;
            return this;
        }

        /** Prefers a weight variant, e.g. "fp16" for {@code diffusion_pytorch_model.fp16.safetensors}. */
        public Builder optVariant(String variant) {
            this.variant = variant;
            return this;
        }

        /** Runs on this device (default: DJL's default device). */
        public Builder optDevice(Device device) {
            this.device = device;
            return this;
        }

        /** Uses this scheduler type with the folder's scheduler config. */
        public Builder optScheduler(SchedulerType type) {
            this.schedulerType = type;
            return this;
        }

        /**
         * Loads a relation classifier for steering: a published Learn-to-Steer {@code .pth} checkpoint,
         * or the library's format (a folder, or a {@code .safetensors} file with its {@code config.json}).
         * It must have been trained on this model's attention maps.
         */
        public Builder optRelationClassifier(Path checkpoint) {
            this.classifierPath = checkpoint;
            return this;
        }

        /**
         * Reports the loading of the weights to {@code progress} (for example DJL's
         * {@code ai.djl.training.util.ProgressBar}, or an adapter to a progress bar of your own):
         * {@code reset(message, total)} with the bytes of the weight files (float32 bytes of the
         * parameters with random weights), {@code increment(bytes)} per tensor read, {@code end()} once
         * all are loaded. Called on the building thread; the library itself never prints.
         */
        public Builder optProgress(Progress progress) {
            this.progress = progress;
            return this;
        }

        /** Ignores weight files and fills every model with seeded random weights. */
        public Builder optRandomWeights(long seed) {
            this.randomSeed = seed;
            return this;
        }

        /**
         * Loads the pipeline.
         *
         * @throws dev.steer.core.model.ModelConfigException for a missing or unsupported folder/config
         * @throws dev.steer.core.weights.WeightsFormatException for missing, corrupt or mismatched weights
         */
        public StableDiffusion build() {
            long t0 = System.nanoTime();
            if (folder == null) {
                throw new IllegalStateException("setModelFolder(...) is required");
            }
            ModelFolder mf = ModelFolder.open(folder, variant);
            String pipeline = mf.pipelineClass();
            if (pipeline != null && !pipeline.startsWith("StableDiffusion")) {
                throw new dev.steer.core.model.ModelConfigException(mf.root().resolve(ModelFolder.MODEL_INDEX), "names the pipeline "
                        + pipeline + ", not a Stable Diffusion pipeline" + (pipeline.equals("FluxPipeline") ? ": load it with FluxPipeline" : ""));
            }
            UNetConfig unetConfig = UNetConfig.load(mf.config("unet"));
            ClipTextConfig textConfig = ClipTextConfig.load(mf.config("text_encoder"));
            VaeConfig vaeConfig = VaeConfig.load(mf.config("vae"));
            if (textConfig.hiddenSize() != unetConfig.crossAttentionDim()) {
                throw new dev.steer.core.model.ModelConfigException(mf.config("unet"), "cross_attention_dim "
                        + unetConfig.crossAttentionDim() + " does not match the text encoder's hidden_size " + textConfig.hiddenSize());
            }
            Scheduler sched = Schedulers.load(mf.schedulerConfig());
            if (schedulerType != null) {
                sched = Schedulers.create(schedulerType, sched.config());
            }
            if (!sched.type().hasAlphasCumprod()) {
                throw new IllegalArgumentException(mf.schedulerConfig() + ": " + sched.type().diffusersClassName()
                        + " drives flow-matching models (FLUX.1); a Stable Diffusion UNet predicts noise on a beta schedule: "
                        + "use DDIM, Euler, DPM++ 2M or PNDM");
            }
            ClipTokenizer tokenizer = ClipTokenizer.fromFolder(mf.component("tokenizer"));
            NDManager manager = device == null ? NDManager.newBaseManager() : NDManager.newBaseManager(device);
            try {
                ClipTextModel text = new ClipTextModel(textConfig);
                UNet2DConditionModel unet = new UNet2DConditionModel(unetConfig);
                AutoencoderKL vae = new AutoencoderKL(vaeConfig);
                String loading = "loading " + folder.toAbsolutePath().normalize().getFileName();
                if (randomSeed != null) {
                    LoadProgress lp = LoadProgress.start(progress, loading, LoadProgress.parameterBytes(text, unet, vae));
                    ModelWeights.randomize(text, randomSeed, manager, lp);
                    ModelWeights.randomize(unet, randomSeed + 1, manager, lp);
                    ModelWeights.randomize(vae, randomSeed + 2, manager, lp);
                    lp.end();
                } else {
                    List<Path> textFiles = mf.weights("text_encoder", "model");
                    List<Path> unetFiles = mf.weights("unet", "diffusion_pytorch_model");
                    List<Path> vaeFiles = mf.weights("vae", "diffusion_pytorch_model");
                    LoadProgress lp = LoadProgress.start(progress, loading, LoadProgress.fileBytes(textFiles, unetFiles, vaeFiles));
                    ModelWeights.load(text, textFiles, manager, java.util.Map.of(), dev.steer.pytorch.weights.WeightStorage.FLOAT32, lp);
                    ModelWeights.load(unet, unetFiles, manager, java.util.Map.of(), dev.steer.pytorch.weights.WeightStorage.FLOAT32, lp);
                    ModelWeights.load(vae, vaeFiles, manager, java.util.Map.of(), dev.steer.pytorch.weights.WeightStorage.FLOAT32, lp);
                    lp.end();
                }
                String desc = folder.toAbsolutePath().normalize().getFileName() + " (UNet "
                        + String.format(Locale.ROOT, "%.0fM", unet.parameterCount() / 1e6) + " params"
                        + (randomSeed != null ? ", random weights seed " + randomSeed : "") + ")";
                TorchRelationClassifier relations = classifierPath == null ? null
                        : PublishedRelationClassifier.load(classifierPath, manager);
                StableDiffusion built = new StableDiffusion(manager, tokenizer, text, unet, vae, sched, relations, desc);
                LOG.info("loaded {} in {} ms", desc, (System.nanoTime() - t0) / 1_000_000);
                return built;
            } catch (RuntimeException e) {
                manager.close();
                throw e;
            }
        }
    }
}
