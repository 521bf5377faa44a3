package dev.steer.pytorch.pipeline;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.util.Progress;
import dev.steer.core.engine.GenerationEngine;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.ModelDefaults;
import dev.steer.core.generation.Sampler;
import dev.steer.core.model.ClipTextConfig;
import dev.steer.core.model.FluxTransformerConfig;
import dev.steer.core.model.MemoryBudget;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.model.ModelFolder;
import dev.steer.core.model.T5Config;
import dev.steer.core.model.VaeConfig;
import dev.steer.core.scheduler.Scheduler;
import dev.steer.core.scheduler.SchedulerType;
import dev.steer.core.scheduler.Schedulers;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.tokenizer.ClipTokenizer;
import dev.steer.core.tokenizer.T5Tokenizer;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.TensorInfo;
import dev.steer.pytorch.clip.ClipTextModel;
import dev.steer.pytorch.clip.ClipTextOutput;
import dev.steer.pytorch.flux.FluxDenoiser;
import dev.steer.pytorch.flux.FluxPrompt;
import dev.steer.pytorch.flux.FluxTransformer2DModel;
import dev.steer.pytorch.relation.PublishedRelationClassifier;
import dev.steer.pytorch.relation.TorchRelationClassifier;
import dev.steer.pytorch.t5.T5EncoderModel;
import dev.steer.pytorch.vae.AutoencoderKL;
import dev.steer.pytorch.internal.weights.LoadProgress;
import dev.steer.pytorch.internal.weights.ModelWeights;
import dev.steer.pytorch.weights.WeightStorage;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FLUX.1 [schnell] and [dev] on LibTorch: a diffusers {@code FluxPipeline} folder loaded into the
 * {@link FluxTransformer2DModel}, the T5 encoder ({@code text_encoder_2/}, tokenized with
 * {@code tokenizer_2/tokenizer.json}), the CLIP encoder's pooled output ({@code text_encoder/}), the
 * FLUX autoencoder and the flow-matching scheduler, run as diffusers' pipeline does: packed 2x2
 * latent tokens, guidance embedded in the model ([dev]) rather than classifier-free, the schedule
 * shifted for the image's token count.
 *
 * <pre>{@code
 * try (FluxPipeline flux = FluxPipeline.builder().setModelFolder(Path.of("FLUX.1-schnell"))
 *         .optRelationClassifier(Path.of("flux_schnell.pth")).build()) {
 *     ModelDefaults d = flux.defaults(); // 4 steps, guidance 0, 256x256, steering at the first step
 *     ...
 * }
 * }</pre>
 *
 * <p>Generation runs through the core {@link GenerationEngine} over {@link FluxDiffusionBackend}.
 * Weights are memory-mapped and kept in their file's dtype by default ({@link WeightStorage#MAPPED});
 * before anything is loaded the pipeline checks that the weights fit in the memory that is free. All
 * native memory is owned by this object and released by {@link #close()}. Not thread-safe: use one
 * instance per thread; several instances may generate and steer at once, their steering gradients
 * taking turns in a {@link dev.steer.pytorch.nn.GradientSection} (see {@link StableDiffusion}).
 */
public final class FluxPipeline implements Sampler {
    private static final Logger LOG = LoggerFactory.getLogger(FluxPipeline.class);

    private final NDManager manager;
    private final ClipTokenizer clipTokenizer;
    private final ClipTextModel clip;
    private final T5Tokenizer t5Tokenizer;
    private final T5EncoderModel t5;
    private final FluxDenoiser denoiser;
    private final AutoencoderKL vae;
    private final Scheduler scheduler;
    private final TorchRelationClassifier classifier;
    private final String description;
    private final ModelDefaults defaults;
    private final int vaeScale;
    private final GenerationEngine<FluxPrompt> engine;

    private FluxPipeline(NDManager manager, ClipTokenizer clipTokenizer, ClipTextModel clip, T5Tokenizer t5Tokenizer, T5EncoderModel t5,
            FluxDenoiser denoiser, AutoencoderKL vae, Scheduler scheduler, TorchRelationClassifier classifier,
            String description, ModelDefaults defaults) {
        this.manager = manager;
        this.clipTokenizer = clipTokenizer;
        this.clip = clip;
        this.t5Tokenizer = t5Tokenizer;
        this.t5 = t5;
        this.denoiser = denoiser;
        this.vae = vae;
        this.scheduler = scheduler;
        this.classifier = classifier;
        this.description = description;
        this.defaults = defaults;
        this.vaeScale = 1 << (vae.config().blockOutChannels().length - 1);
        this.engine = new GenerationEngine<>(new FluxDiffusionBackend(this));
    }

    /** Starts configuring a pipeline. */
    public static Builder builder() {
        return new Builder();
    }

    /** The transformer. */
    public FluxTransformer2DModel transformer() {
        return denoiser.transformer();
    }

    /** The transformer as the loop and steering call it. */
    public FluxDenoiser denoiser() {
        return denoiser;
    }

    /** The T5 tokenizer (the words steering binds to are T5 tokens). */
    public T5Tokenizer tokenizer() {
        return t5Tokenizer;
    }

    /** The autoencoder. */
    public AutoencoderKL vae() {
        return vae;
    }

    /** The flow-matching scheduler. */
    public Scheduler scheduler() {
        return scheduler;
    }

    /** The relation classifier, or null. */
    public TorchRelationClassifier relationClassifier() {
        return classifier;
    }

    /** The manager owning the weights. */
    public NDManager manager() {
        return manager;
    }

    /** Pixels per latent cell (8 for FLUX.1). */
    public int vaeScaleFactor() {
        return vaeScale;
    }

    /** Whether this is a guidance-distilled [dev]-like model (it embeds a guidance value). */
    public boolean embedsGuidance() {
        return transformer().config().guidanceEmbeds();
    }

    /** The generation engine running this pipeline. */
    public GenerationEngine<FluxPrompt> engine() {
        return engine;
    }

    /**
     * The published settings for the family ({@link #defaultsFor}), with the steps, guidance and size
     * the folder declares in {@code model_index.json} ({@link ModelFolder#defaults}) in their place.
     */
    @Override
    public ModelDefaults defaults() {
        return defaults;
    }

    /**
     * The published Learn-to-Steer settings: [schnell] 4 steps, guidance 0, 256x256, steering at the
     * first step only; [dev] 50 steps, guidance 3.5, 512x512, the first 25 steps steered; 15
     * iterations of step size 5 for both.
     */
    static ModelDefaults defaultsFor(boolean dev) {
        return dev ? new ModelDefaults(50, 3.5f, 512, SteeringConfig.DEFAULTS)
                : new ModelDefaults(4, 0f, 256, SteeringConfig.DEFAULTS.withRange(0, 0.25));
    }

    @Override
    public String modelDescription() {
        return description;
    }

    /** Tokenizes for T5 (the tokens steering binds words to). */
    TokenizedPrompt tokenize(String prompt) {
        return t5Tokenizer.tokenize(prompt);
    }

    /**
     * Encodes a prompt in {@code scope}: T5 hidden states of its T5 tokens and the CLIP pooled
     * embedding of the same text (CLIP tokenized to 77, as FluxPipeline does).
     */
    public FluxPrompt encode(NDManager scope, TokenizedPrompt t5Tokens) {
        long[] ids = t5Tokens.idsAsLongs();
        NDArray text = t5.forward(scope.create(ids, new Shape(1, ids.length)));
        long[] clipIds = clipTokenizer.tokenize(t5Tokens.prompt()).idsAsLongs();
        ClipTextOutput out = clip.encode(scope.create(clipIds, new Shape(1, clipIds.length)));
        return new FluxPrompt(text, out.pooled());
    }

    /** Decodes latents [C, h, w] (FLUX's scaling and shift undone here) to [3, H, W] in about [-1, 1]. */
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

    /** Releases the classifier, the tokenizer and every array of the model. */
    @Override
    public void close() {
        engine.close();
    }

    void release() {
        if (classifier != null) {
            classifier.close();
        }
        t5Tokenizer.close();
        manager.close();
    }

    /**
     * Configures a {@link FluxPipeline}: the model folder is required; device, weight variant and
     * storage, T5 length, classifier and random weights are optional.
     */
    public static final class Builder {
        private Path folder;
        private String variant;
        private Device device;
        private Path classifierPath;
        private Long randomSeed;
        private WeightStorage storage = WeightStorage.MAPPED;
        private Integer maxSequenceLength;
        private boolean checkMemory = true;
        private DataType computeType = DataType.FLOAT32;
        private Progress progress;

        private Builder() {
        }

        /** The diffusers FLUX folder (model_index.json naming FluxPipeline, transformer/, text_encoder(_2)/, tokenizer(_2)/, vae/, scheduler/). */
        public Builder setModelFolder(Path folder) {
            this.folder = folder;
            return this;
        }

        /** Prefers a weight variant, e.g. "bf16". */
        public Builder optVariant(String variant) {
            this.variant = variant;
            return this;
        }

        /** Runs on this device (default: DJL's default device). */
        public Builder optDevice(Device device) {
            this.device = device;
            return this;
        }

        /** A relation classifier for steering: a published FLUX checkpoint ({@code flux_schnell.pth}) or the library's format. */
        public Builder optRelationClassifier(Path checkpoint) {
            this.classifierPath = checkpoint;
            return this;
        }

        /** How weights are kept (default {@link WeightStorage#MAPPED}: in place, in the file's dtype). */
        public Builder optWeightStorage(WeightStorage storage) {
            this.storage = storage;
            return this;
        }

        /**
         * T5 tokens per prompt (default as diffusers: 256 for [schnell], 512 for [dev], or the
         * folder's {@code tokenizer_2/tokenizer_config.json} {@code model_max_length} when smaller).
         */
        public Builder optMaxSequenceLength(int tokens) {
            this.maxSequenceLength = tokens;
            return this;
        }

        /**
         * The transformer's compute dtype: float32 (default) or float16 (halves activation memory on
         * a GPU; float16 weight files are then used as they are). The text encoders, the autoencoder
         * and the classifier stay in float32.
         */
        public Builder optComputeType(DataType type) {
            this.computeType = type;
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

        /** Ignores weight files and fills every model with seeded random weights (benchmarks of the real architecture). */
        public Builder optRandomWeights(long seed) {
            this.randomSeed = seed;
            return this;
        }

        /** Skips the check that the weights fit in free memory (for machines whose free memory is misreported). */
        public Builder optSkipMemoryCheck() {
            this.checkMemory = false;
            return this;
        }

        /**
         * Loads the pipeline.
         *
         * @throws ModelConfigException for a missing component or file, an unsupported config, or a model
         *     that does not fit in free memory ({@link MemoryBudget.InsufficientMemoryException})
         * @throws dev.steer.core.weights.WeightsFormatException for missing, corrupt or mismatched weights
         */
        public FluxPipeline build() {
            long t0 = System.nanoTime();
            if (folder == null) {
                throw new IllegalStateException("setModelFolder(...) is required");
            }
            ModelFolder mf = ModelFolder.open(folder, variant);
            String pipeline = mf.pipelineClass();
            if (pipeline != null && !pipeline.equals("FluxPipeline")) {
                throw new ModelConfigException(mf.root().resolve(ModelFolder.MODEL_INDEX), "names the pipeline " + pipeline
                        + ", not FluxPipeline: load it with " + (pipeline.startsWith("StableDiffusion") ? "StableDiffusion" : "its own pipeline"));
            }
            FluxTransformerConfig transformerConfig = FluxTransformerConfig.load(mf.config("transformer"));
            T5Config t5Config = T5Config.load(mf.config("text_encoder_2"));
            ClipTextConfig clipConfig = ClipTextConfig.load(mf.config("text_encoder"));
            VaeConfig vaeConfig = VaeConfig.load(mf.config("vae"));
            checkFits(mf, transformerConfig, t5Config, clipConfig, vaeConfig);
            Scheduler sched = Schedulers.load(mf.schedulerConfig());
            if (sched.type() != SchedulerType.FLOW_MATCH_EULER) {
                throw new ModelConfigException(mf.schedulerConfig(), "FLUX runs with FlowMatchEulerDiscreteScheduler, not "
                        + sched.type().diffusersClassName());
            }
            ClipTokenizer clipTokenizer = ClipTokenizer.fromFolder(mf.component("tokenizer"));
            boolean dev = transformerConfig.guidanceEmbeds();
            int maxTokens = maxSequenceLength != null ? maxSequenceLength
                    : Math.min(dev ? T5Tokenizer.FLUX_DEV_MAX_LENGTH : T5Tokenizer.FLUX_SCHNELL_MAX_LENGTH,
                            declaredMaxLength(mf.root().resolve("tokenizer_2/tokenizer_config.json")));
            T5Tokenizer t5Tokenizer = T5Tokenizer.fromFolder(mf.root(), maxTokens);
            List<Path> transformerFiles = randomSeed == null ? mf.weights("transformer", "diffusion_pytorch_model") : List.of();
            List<Path> t5Files = randomSeed == null ? mf.weights("text_encoder_2", "model") : List.of();
            List<Path> clipFiles = randomSeed == null ? mf.weights("text_encoder", "model") : List.of();
            List<Path> vaeFiles = randomSeed == null ? mf.weights("vae", "diffusion_pytorch_model") : List.of();
            if (checkMemory) {
                MemoryBudget budget = budget(transformerFiles, t5Files, clipFiles, vaeFiles, transformerConfig, t5Config, clipConfig,
                        vaeConfig);
                Device target = device == null ? ai.djl.engine.Engine.getInstance().defaultDevice() : device;
                if (target.isGpu()) {
                    // weights are copied to the device in their file's dtype
                    java.lang.management.MemoryUsage gpu = ai.djl.util.cuda.CudaUtils.getGpuMemory(target);
                    budget.require(gpu.getMax() - gpu.getUsed(), mf.root(), "GPU memory on " + target);
                } else {
                    budget.require(MemoryBudget.availableMemory(), mf.root(), "memory available on this machine");
                }
            }
            NDManager manager = device == null ? NDManager.newBaseManager() : NDManager.newBaseManager(device);
            try {
                FluxTransformer2DModel transformer = new FluxTransformer2DModel(transformerConfig);
                T5EncoderModel t5 = new T5EncoderModel(t5Config);
                ClipTextModel clip = new ClipTextModel(clipConfig);
                AutoencoderKL vae = new AutoencoderKL(vaeConfig);
                String loading = "loading " + folder.toAbsolutePath().normalize().getFileName();
                if (randomSeed != null) {
                    LoadProgress lp = LoadProgress.start(progress, loading, LoadProgress.parameterBytes(transformer, t5, clip, vae));
                    ModelWeights.randomize(transformer, randomSeed, manager, lp);
                    ModelWeights.randomize(t5, randomSeed + 1, manager, lp);
                    ModelWeights.randomize(clip, randomSeed + 2, manager, lp);
                    ModelWeights.randomize(vae, randomSeed + 3, manager, lp);
                    lp.end();
                } else {
                    LoadProgress lp = LoadProgress.start(progress, loading,
                            LoadProgress.fileBytes(transformerFiles, t5Files, clipFiles, vaeFiles));
                    ModelWeights.load(transformer, transformerFiles, manager, Map.of(), storage, lp);
                    ModelWeights.load(t5, t5Files, manager, Map.of(T5EncoderModel.TIED_EMBEDDING, "shared.weight"), storage, lp);
                    ModelWeights.load(clip, clipFiles, manager, Map.of(), storage, lp);
                    ModelWeights.load(vae, vaeFiles, manager, Map.of(), storage, lp);
                    lp.end();
                }
                String desc = folder.toAbsolutePath().normalize().getFileName() + " (FLUX.1 " + (dev ? "[dev]" : "[schnell]") + " transformer "
                        + String.format(Locale.ROOT, "%.0fM", transformer.parameterCount() / 1e6) + " params"
                        + (randomSeed != null ? ", random weights seed " + randomSeed : "") + ")";
                TorchRelationClassifier relations = classifierPath == null ? null
                        : PublishedRelationClassifier.load(classifierPath, manager);
                FluxPipeline built = new FluxPipeline(manager, clipTokenizer, clip, t5Tokenizer, t5, new FluxDenoiser(transformer, computeType), vae, sched,
                        relations, desc, mf.defaults(defaultsFor(dev)));
                LOG.info("loaded {} in {} ms", desc, (System.nanoTime() - t0) / 1_000_000);
                return built;
            } catch (RuntimeException e) {
                t5Tokenizer.close();
                manager.close();
                throw e;
            }
        }

        /**
         * The {@code model_max_length} a folder's {@code tokenizer_2/tokenizer_config.json} declares,
         * or {@link Integer#MAX_VALUE} when there is none (no file, no or an unset value). FLUX.1's
         * own folders declare 512, so their defaults (256 for [schnell], 512 for [dev]) stand; a model
         * trained with shorter T5 sequences (the ShapeWorld FLUX model: 32) declares its length here
         * and is run with it, as it was trained.
         */
        static int declaredMaxLength(Path tokenizerConfig) {
            if (!java.nio.file.Files.isRegularFile(tokenizerConfig)) {
                return Integer.MAX_VALUE;
            }
            try {
                com.google.gson.JsonElement root = com.google.gson.JsonParser.parseString(java.nio.file.Files.readString(tokenizerConfig));
                com.google.gson.JsonElement v = root.isJsonObject() ? root.getAsJsonObject().get("model_max_length") : null;
                if (v == null || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
                    return Integer.MAX_VALUE;
                }
                double d = v.getAsDouble();
                if (!(d >= 2) || d > 1e9) { // HuggingFace writes int(1e30) for "unset"
                    return Integer.MAX_VALUE;
                }
                return (int) d;
            } catch (java.io.IOException | RuntimeException e) {
                throw new ModelConfigException(tokenizerConfig, "cannot be read as JSON: " + e.getMessage());
            }
        }

        private static void checkFits(ModelFolder mf, FluxTransformerConfig transformer, T5Config t5, ClipTextConfig clip, VaeConfig vae) {
            if (t5.dModel() != transformer.jointAttentionDim()) {
                throw new ModelConfigException(mf.config("transformer"), "joint_attention_dim " + transformer.jointAttentionDim()
                        + " does not match text_encoder_2's d_model " + t5.dModel());
            }
            if (clip.hiddenSize() != transformer.pooledProjectionDim()) {
                throw new ModelConfigException(mf.config("transformer"), "pooled_projection_dim " + transformer.pooledProjectionDim()
                        + " does not match text_encoder's hidden_size " + clip.hiddenSize());
            }
            if (vae.latentChannels() * 4 != transformer.inChannels()) {
                throw new ModelConfigException(mf.config("transformer"), "in_channels " + transformer.inChannels()
                        + " is not 4 x the autoencoder's " + vae.latentChannels() + " latent channels (2x2 packing)");
            }
        }

        /** Bytes the weights take as they will be kept: the files' own bytes when mapped, 4 per parameter as float32. */
        private MemoryBudget budget(List<Path> transformerFiles, List<Path> t5Files, List<Path> clipFiles, List<Path> vaeFiles,
                FluxTransformerConfig tc, T5Config t5c, ClipTextConfig cc, VaeConfig vc) {
            MemoryBudget b = new MemoryBudget();
            if (randomSeed != null) {
                b.add("transformer", 4 * new FluxTransformer2DModel(tc).parameterCount());
                b.add("T5", 4 * new T5EncoderModel(t5c).parameterCount());
                b.add("CLIP", 4 * new ClipTextModel(cc).parameterCount());
                b.add("autoencoder", 4 * new AutoencoderKL(vc).parameterCount());
                return b;
            }
            b.add("transformer", bytes(transformerFiles));
            b.add("T5", bytes(t5Files));
            b.add("CLIP", bytes(clipFiles));
            b.add("autoencoder", bytes(vaeFiles));
            return b;
        }

        private long bytes(List<Path> files) {
            long total = 0;
            for (Path f : files) {
                try (SafetensorsFile st = SafetensorsFile.open(f)) {
                    for (TensorInfo t : st.tensors().values()) {
                        total += storage == WeightStorage.MAPPED ? t.byteLength() : 4 * t.elementCount();
                    }
                }
            }
            return total;
        }
    }
}
