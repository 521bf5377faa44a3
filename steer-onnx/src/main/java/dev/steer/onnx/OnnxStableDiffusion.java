package dev.steer.onnx;

import ai.djl.util.Progress;
import ai.onnxruntime.OrtSession;
import dev.steer.core.engine.GenerationEngine;
import dev.steer.core.engine.StepObserver;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.InitialNoise;
import dev.steer.core.generation.ProgressListener;
import dev.steer.core.generation.Sampler;
import dev.steer.core.model.ConfigJson;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.model.VaeConfig;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.scheduler.Scheduler;
import dev.steer.core.scheduler.SchedulerType;
import dev.steer.core.scheduler.Schedulers;
import dev.steer.core.tokenizer.ClipTokenizer;
import dev.steer.onnx.steering.GradientEstimator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Stable Diffusion (1.x / 2.x) text-to-image pipeline on ONNX Runtime, without LibTorch: a model
 * folder in the Optimum ONNX layout ({@code text_encoder/model.onnx}, {@code unet/model.onnx},
 * {@code vae_decoder/model.onnx}, {@code vae_encoder/model.onnx}, {@code tokenizer/},
 * {@code scheduler/}) run as diffusers' {@code StableDiffusionPipeline} does: classifier-free
 * guidance on the batch [unconditional, conditional], guided = u + g (c - u), with the pure-Java
 * schedulers of steer-core.
 *
 * <pre>{@code
 * try (OnnxStableDiffusion sd = OnnxStableDiffusion.builder().setModelFolder(Path.of("sd-1.5-onnx")).build()) {
 *     sd.generate(GenerationRequest.builder("a red cube left of a blue ball").optSeed(7).build())
 *       .save(Path.of("out.png"));
 * }
 * }</pre>
 *
 * <p>Graphs may keep their weights inline or in external data files next to them (real UNets
 * exceed protobuf's 2 GB limit). The UNet graph is rewritten in memory at load time so its
 * cross-attention probabilities can be fetched (see {@link OnnxUNet}); the files are never
 * modified and nothing is written into the folder. Initial noise comes from {@link InitialNoise},
 * as on the PyTorch backend, so a seed gives the same starting latent on both. All native
 * resources (the ONNX Runtime sessions) are owned by this object and released by {@link #close()}.
 * Not thread-safe: use one instance per thread.
 *
 * <p>Learn-to-Steer: load a relation classifier with {@link Builder#optRelationClassifier} and put
 * a {@link dev.steer.core.steering.SteeringRequest} in the generation request, exactly as on the
 * LibTorch backend (same request, settings, listener, reports and PNG metadata). ONNX Runtime has
 * no backward pass, so the gradient of the steering loss is estimated from forward passes: each
 * refinement iteration runs the UNet once on the latent and 2n perturbations of it
 * ({@link GradientEstimator}, n = {@link Builder#optGradientBudget}); the core
 * {@link dev.steer.core.steering.GradientSteerer} takes its steps unchanged. Generation runs through
 * the core {@link GenerationEngine} (loop, steering, heatmap pictures, progress, cancellation,
 * several images per call) over this backend's {@link OnnxDiffusionBackend}.
 */
public final class OnnxStableDiffusion implements Sampler {
    private static final Logger LOG = LoggerFactory.getLogger(OnnxStableDiffusion.class);

    private final ClipTokenizer tokenizer;
    private final OnnxTextEncoder textEncoder;
    private final OnnxUNet unet;
    private final OnnxVae vae;
    private final Scheduler scheduler;
    private final float scalingFactor;
    private final String description;
    private final OnnxRelationClassifier classifier;
    private final GradientEstimator estimator;
    private final GenerationEngine<FloatTensor> engine;

    private OnnxStableDiffusion(ClipTokenizer tokenizer, OnnxTextEncoder textEncoder, OnnxUNet unet, OnnxVae vae, Scheduler scheduler,
            float scalingFactor, int defaultLatentSize, String description, OnnxRelationClassifier classifier,
            GradientEstimator estimator) {
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.unet = unet;
        this.vae = vae;
        this.scheduler = scheduler;
        this.scalingFactor = scalingFactor;
        this.description = description;
        this.classifier = classifier;
        this.estimator = estimator;
        this.engine = new GenerationEngine<>(new OnnxDiffusionBackend(this, defaultLatentSize));
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
    public OnnxTextEncoder textEncoder() {
        return textEncoder;
    }

    /** The denoiser. */
    public OnnxUNet unet() {
        return unet;
    }

    /** The autoencoder. */
    public OnnxVae vae() {
        return vae;
    }

    /** The scheduler from the model folder (or the one chosen in the builder). */
    public Scheduler scheduler() {
        return scheduler;
    }

    /** The relation classifier used for steering, or null when none was loaded. */
    public OnnxRelationClassifier relationClassifier() {
        return classifier;
    }

    /** How steering estimates its gradient (budget, directions, perturbation size). */
    public GradientEstimator gradientEstimator() {
        return estimator;
    }

    /** Pixels per latent cell (8 for SD). */
    public int vaeScaleFactor() {
        return vae.scaleFactor();
    }

    /** The VAE's latent scaling factor (0.18215 for SD 1.x and 2.x). */
    public float scalingFactor() {
        return scalingFactor;
    }

    @Override
    public String modelDescription() {
        return description;
    }

    /**
     * Encodes token ids to the text encoder's last hidden state [1, tokens, dim].
     *
     * @throws IllegalArgumentException if an id is outside the text encoder's vocabulary (tokenizer and
     *     text encoder from different models)
     */
    public FloatTensor encodeIds(long[] ids) {
        return textEncoder.encode(ids);
    }

    /** Tokenizes and encodes a prompt. */
    public FloatTensor encodePrompt(String prompt) {
        return encodeIds(tokenizer.tokenize(prompt).idsAsLongs());
    }

    /** The generation engine running this pipeline (its loop, for callers holding encoded prompts). */
    public GenerationEngine<FloatTensor> engine() {
        return engine;
    }

    /**
     * The denoising loop with classifier-free guidance on encoded prompts.
     *
     * @param cond conditional hidden states [1, T, D]
     * @param uncond unconditional hidden states [1, T, D] (unused when guidance is 1 or less)
     * @param initLatents initial latent already scaled by the schedule's init noise sigma, [C * h * w]
     * @param schedule a fresh schedule
     * @param listener called after each step; may be null
     * @return the final latent
     */
    public float[] denoise(FloatTensor cond, FloatTensor uncond, float[] initLatents, int latentHeight, int latentWidth,
            Schedule schedule, float guidance, ProgressListener listener) {
        return denoise(cond, uncond, initLatents, latentHeight, latentWidth, schedule, guidance, null, listener);
    }

    /** The denoising loop with an optional {@link StepObserver} that probes chosen steps' cross-attention. */
    public float[] denoise(FloatTensor cond, FloatTensor uncond, float[] initLatents, int latentHeight, int latentWidth,
            Schedule schedule, float guidance, StepObserver observer, ProgressListener listener) {
        try (OnnxDiffusionBackend.Scope scope = new OnnxDiffusionBackend.Scope(this)) {
            return engine.denoise(scope, cond, uncond, initLatents, latentHeight, latentWidth, schedule, guidance, observer, listener);
        }
    }

    /** Decodes a latent (divided by the VAE's scaling factor here) to [3, H, W] values in about [-1, 1]. */
    public float[] decode(float[] latents, int latentHeight, int latentWidth) {
        int channels = latents.length / (latentHeight * latentWidth);
        float[] z = new float[latents.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = latents[i] / scalingFactor;
        }
        return vae.decode(FloatTensor.of(z, 1, channels, latentHeight, latentWidth)).data();
    }

    @Override
    public GenerationResult generate(GenerationRequest request) {
        return engine.generate(request);
    }

    @Override
    public List<GenerationResult> generateAll(List<GenerationRequest> requests) {
        return engine.generateAll(requests);
    }

    /** Closes every ONNX Runtime session (the classifier's too). */
    @Override
    public void close() {
        engine.close();
    }

    void closeSessions() {
        RuntimeException failure = null;
        for (AutoCloseable c : new AutoCloseable[] {unet, vae, textEncoder, classifier}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                if (failure == null) {
                    failure = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Configures an {@link OnnxStableDiffusion}: the model folder is required; scheduler, threads,
     * ONNX Runtime session options, the relation classifier for steering and the gradient
     * estimator's settings are optional.
     */
    public static final class Builder {
        private Path folder;
        private SchedulerType schedulerType;
        private int intraOpThreads;
        private Consumer<OrtSession.SessionOptions> sessionOptions;
        private Path classifierPath;
        private GradientEstimator estimator;
        private Integer budget;
        private Progress progress;

        private Builder() {
        }

        /**
         * Loads a relation classifier for steering: a published Learn-to-Steer {@code .pth} checkpoint,
         * or the library's format (a folder, or a {@code .safetensors} file with its {@code config.json}),
         * as on the LibTorch backend. It runs as an ONNX graph generated from the weights at load time.
         * It must have been trained on this model's attention maps.
         */
        public Builder optRelationClassifier(Path checkpoint) {
            this.classifierPath = checkpoint;
            return this;
        }

        /**
         * Directions per steering iteration for the forward-only gradient estimate (default 16): each
         * iteration runs the UNet once on 2n + 1 latents. Larger budgets estimate the gradient better
         * (cosine with the exact gradient about sqrt(n / latent size)) at a cost linear in n. Overrides
         * the budget of {@link #optGradientEstimator} or of the classifier's steering.json.
         */
        public Builder optGradientBudget(int directions) {
            if (directions < 1) {
                throw new IllegalArgumentException("the gradient budget must be at least 1 direction, got " + directions);
            }
            this.budget = directions;
            return this;
        }

        /**
         * All of the gradient estimator's settings (budget, directions, subspace, perturbation size,
         * batch limit, seed). Default: the {@code onnx} section of the classifier's {@code
         * steering.json} ({@link GradientEstimator#recommendedFor}), else {@link GradientEstimator#DEFAULTS}.
         */
        public Builder optGradientEstimator(GradientEstimator settings) {
            this.estimator = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /** The Optimum-layout ONNX model folder (text_encoder/, unet/, vae_decoder/, vae_encoder/, tokenizer/, scheduler/). */
        public Builder setModelFolder(Path folder) {
            this.folder = folder;
            return this;
        }

        /** Uses this scheduler type with the folder's scheduler config. */
        public Builder optScheduler(SchedulerType type) {
            this.schedulerType = type;
            return this;
        }

        /** Threads per ONNX Runtime operator (default: ONNX Runtime's choice, one per physical core). */
        public Builder optIntraOpThreads(int threads) {
            if (threads < 0) {
                throw new IllegalArgumentException("threads must be >= 0, got " + threads);
            }
            this.intraOpThreads = threads;
            return this;
        }

        /**
         * Reports the loading to {@code progress} (for example DJL's {@code ai.djl.training.util.ProgressBar}):
         * {@code reset(message, total)} with the number of graphs (text encoder, UNet, VAE, and the
         * relation classifier when there is one), {@code increment(1)} as each session is created,
         * {@code end()} once all are. ONNX Runtime creates a session in one call, so there is nothing
         * finer to report. The library itself never prints.
         */
        public Builder optProgress(Progress progress) {
            this.progress = progress;
            return this;
        }

        /**
         * Changes every session's options before it is created (execution providers, optimization
         * level, memory settings); called once per graph.
         */
        public Builder optSessionOptions(Consumer<OrtSession.SessionOptions> configurer) {
            this.sessionOptions = configurer;
            return this;
        }

        /**
         * Loads the pipeline.
         *
         * @throws ModelConfigException naming the file for a missing or unusable folder, graph, external
         *     data file, tokenizer or scheduler config
         */
        public OnnxStableDiffusion build() {
            long t0 = System.nanoTime();
            if (folder == null) {
                throw new IllegalStateException("setModelFolder(...) is required");
            }
            OnnxModelFolder mf = OnnxModelFolder.open(folder);
            Path textFile = mf.graph(OnnxModelFolder.TEXT_ENCODER);
            Path unetFile = mf.graph(OnnxModelFolder.UNET);
            Path decoderFile = mf.graph(OnnxModelFolder.VAE_DECODER);
            Path encoderFile = mf.root().resolve(OnnxModelFolder.VAE_ENCODER).resolve(OnnxModelFolder.GRAPH_FILE);
            Scheduler sched = Schedulers.load(mf.schedulerConfig());
            if (schedulerType != null) {
                sched = Schedulers.create(schedulerType, sched.config());
            }
            ClipTokenizer tok = ClipTokenizer.fromFolder(mf.component("tokenizer"));
            ConfigJson vaeConfig = mf.optionalConfig(OnnxModelFolder.VAE_DECODER);
            float scaling = vaeConfig == null ? VaeConfig.DEFAULT_SCALING_FACTOR
                    : vaeConfig.getFloat("scaling_factor", VaeConfig.DEFAULT_SCALING_FACTOR);
            int configuredScale = -1;
            if (vaeConfig != null && vaeConfig.has("block_out_channels")) {
                configuredScale = 1 << (vaeConfig.getInts("block_out_channels").length - 1);
            }
            SessionSettings settings = new SessionSettings(intraOpThreads, sessionOptions);
            List<AutoCloseable> loaded = new ArrayList<>();
            try {
                if (progress != null) {
                    progress.reset("loading " + folder.toAbsolutePath().normalize().getFileName(), classifierPath == null ? 3 : 4);
                    progress.start(0);
                }
                OnnxTextEncoder text = add(loaded, OnnxTextEncoder.load(textFile, settings));
                graphLoaded();
                OnnxUNet unet = add(loaded, OnnxUNet.load(unetFile, settings));
                graphLoaded();
                OnnxVae vae = add(loaded, OnnxVae.load(decoderFile, encoderFile, settings, configuredScale));
                graphLoaded();
                OnnxRelationClassifier relations = classifierPath == null ? null
                        : add(loaded, OnnxRelationClassifier.load(classifierPath, settings));
                if (relations != null) {
                    graphLoaded();
                }
                if (progress != null) {
                    progress.end();
                }
                int textDim = text.hiddenSize();
                if (textDim > 0 && unet.crossAttentionDim() > 0 && textDim != unet.crossAttentionDim()) {
                    throw new ModelConfigException(unetFile, "takes text embeddings of width " + unet.crossAttentionDim()
                            + " but the text encoder " + textFile + " produces " + textDim);
                }
                ConfigJson unetConfig = mf.optionalConfig(OnnxModelFolder.UNET);
                int latentSize;
                if (unetConfig != null && unetConfig.has("sample_size")) {
                    latentSize = unetConfig.getInt("sample_size");
                } else if (unet.exportLatentSize() != null) {
                    latentSize = unet.exportLatentSize()[0];
                } else {
                    latentSize = 64;
                }
                String desc = folder.toAbsolutePath().normalize().getFileName() + " (ONNX, UNet "
                        + String.format(Locale.ROOT, "%.0fM", unet.parameterCount() / 1e6) + " params)";
                GradientEstimator est = estimator != null ? estimator
                        : classifierPath != null ? GradientEstimator.recommendedFor(classifierPath, GradientEstimator.DEFAULTS)
                        : GradientEstimator.DEFAULTS;
                if (budget != null) {
                    est = est.withBudget(budget);
                }
                OnnxStableDiffusion built = new OnnxStableDiffusion(tok, text, unet, vae, sched, scaling, latentSize, desc, relations, est);
                LOG.info("loaded {} in {} ms", desc, (System.nanoTime() - t0) / 1_000_000);
                return built;
            } catch (RuntimeException e) {
                for (AutoCloseable c : loaded) {
                    try {
                        c.close();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw e;
            }
        }

        private void graphLoaded() {
            if (progress != null) {
                progress.increment(1);
            }
        }

        private static <T extends AutoCloseable> T add(List<AutoCloseable> loaded, T c) {
            loaded.add(c);
            return c;
        }
    }
}
