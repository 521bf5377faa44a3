package dev.steer.pytorch.pipeline;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.InitialNoise;
import dev.steer.core.generation.Sampler;
import dev.steer.core.generation.StageTimings;
import dev.steer.core.image.PngImages;
import dev.steer.core.model.ClipTextConfig;
import dev.steer.core.model.ModelFolder;
import dev.steer.core.model.UNetConfig;
import dev.steer.core.model.VaeConfig;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.scheduler.Scheduler;
import dev.steer.core.scheduler.SchedulerType;
import dev.steer.core.scheduler.Schedulers;
import dev.steer.core.steering.SteeringStepReport;
import dev.steer.core.tokenizer.ClipTokenizer;
import dev.steer.core.relation.RelationClassifier;
import dev.steer.pytorch.attention.TorchAttentionProbe;
import dev.steer.pytorch.clip.ClipTextModel;
import dev.steer.pytorch.relation.PublishedRelationClassifier;
import dev.steer.pytorch.unet.UNet2DConditionModel;
import dev.steer.pytorch.vae.AutoencoderKL;
import dev.steer.pytorch.weights.ModelWeights;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

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
 * <p>Initial noise comes from {@link InitialNoise} (seeded {@link java.util.Random}). All native
 * memory is owned by this object and released by {@link #close()}; each generation runs in its
 * own scope, each denoising step in a nested one. Not thread-safe: use one instance per thread.
 */
public final class StableDiffusion implements Sampler {
    private final NDManager manager;
    private final ClipTokenizer tokenizer;
    private final ClipTextModel textEncoder;
    private final UNet2DConditionModel unet;
    private final AutoencoderKL vae;
    private final Scheduler scheduler;
    private final RelationClassifier classifier;
    private final String description;
    private final int vaeScale;

    private StableDiffusion(NDManager manager, ClipTokenizer tokenizer, ClipTextModel textEncoder, UNet2DConditionModel unet,
            AutoencoderKL vae, Scheduler scheduler, RelationClassifier classifier, String description) {
        this.manager = manager;
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.unet = unet;
        this.vae = vae;
        this.scheduler = scheduler;
        this.classifier = classifier;
        this.description = description;
        this.vaeScale = 1 << (vae.config().blockOutChannels().length - 1);
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
    public RelationClassifier relationClassifier() {
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

    /**
     * Refines the latent before a denoising step (steering); called with the step's scope. Returns
     * null when the step is not steered.
     */
    @FunctionalInterface
    public interface StepRefiner {
        /** Refines {@code latents} in place before step {@code index} of {@code total}. */
        SteeringStepReport refine(int index, int total, float[] latents, Schedule schedule);
    }

    /**
     * Looks inside chosen denoising steps: asks for an attention probe on the conditional branch of
     * the guided UNet call and receives the step's inputs and guided prediction before the scheduler
     * step. Used for the steering pictures.
     */
    public interface StepObserver {
        /** A probe for this step's UNet call, or null to skip the step. */
        TorchAttentionProbe probeFor(int step);

        /**
         * Called after the guided prediction of an observed step.
         *
         * @param latents the latent the UNet saw (before the scheduler step)
         * @param guidedPrediction the guided model output
         * @param maps the probe's classifier input [2, N, 16, 16], flattened
         * @param scope the step's scope, for any decoding
         */
        void onStep(int step, float[] latents, float[] guidedPrediction, float[] maps, Schedule schedule, NDManager scope);
    }

    /** Receives each denoising step's result; used for previews, telemetry and conformance tests. */
    @FunctionalInterface
    public interface StepListener {
        /** Called after step {@code index} with the new latent (flattened). */
        void onStep(int index, int timestep, float[] latents);
    }

    /**
     * The denoising loop with classifier-free guidance.
     *
     * @param cond conditional hidden states [1, T, D]
     * @param uncond unconditional hidden states [1, T, D] (unused when guidance is 1 or less)
     * @param initLatents initial latent already scaled by the schedule's init noise sigma, [C * h * w]
     * @param latentHeight latent height
     * @param latentWidth latent width
     * @param schedule a fresh schedule
     * @param guidance guidance scale
     * @param listener called after each step; may be null
     * @return the final latent
     */
    public float[] denoise(NDArray cond, NDArray uncond, float[] initLatents, int latentHeight, int latentWidth,
            Schedule schedule, float guidance, StepListener listener) {
        return denoise(cond, uncond, initLatents, latentHeight, latentWidth, schedule, guidance, null, null, listener);
    }

    /**
     * The denoising loop with classifier-free guidance and, before each step, an optional refiner
     * (Learn-to-Steer) that may change the latent.
     */
    public float[] denoise(NDArray cond, NDArray uncond, float[] initLatents, int latentHeight, int latentWidth,
            Schedule schedule, float guidance, StepRefiner refiner, StepObserver observer, StepListener listener) {
        boolean cfg = guidance > 1f;
        int channels = unet.config().inChannels();
        float[] latents = initLatents.clone();
        int[] timesteps = schedule.timesteps();
        float[] modelTimesteps = schedule.modelTimesteps();
        NDManager scope = cond.getManager();
        NDArray context = cfg ? NDArrays.concat(new NDList(uncond, cond), 0) : cond;
        for (int i = 0; i < timesteps.length; i++) {
            if (refiner != null) {
                refiner.refine(i, timesteps.length, latents, schedule);
            }
            try (NDManager step = scope.newSubManager()) {
                float[] modelInput = schedule.scaleModelInput(latents, i);
                NDArray x = step.create(modelInput, new Shape(1, channels, latentHeight, latentWidth));
                if (cfg) {
                    x = NDArrays.concat(new NDList(x, x), 0);
                }
                NDArray t = step.create(new float[] {modelTimesteps[i]});
                TorchAttentionProbe probe = observer == null ? null : observer.probeFor(i);
                NDArray out = unet.forward(x, t, context, probe == null ? null : probe.asHook(cfg ? 1 : 0));
                NDArray guided;
                if (cfg) {
                    NDArray u = out.get(0);
                    NDArray c = out.get(1);
                    guided = u.add(c.sub(u).mul(guidance));
                } else {
                    guided = out.get(0);
                }
                float[] prediction = guided.toFloatArray();
                if (probe != null) {
                    observer.onStep(i, latents, prediction, probe.classifierInput().toFloatArray(), schedule, step);
                }
                latents = schedule.step(prediction, i, latents);
            }
            if (listener != null) {
                listener.onStep(i, timesteps[i], latents);
            }
        }
        return latents;
    }

    /** Decodes a latent (unscaled by the VAE's scaling factor here) to [3, H, W] values in about [-1, 1]. */
    public float[] decode(NDManager scope, float[] latents, int latentHeight, int latentWidth) {
        try (NDManager sub = scope.newSubManager()) {
            NDArray z = sub.create(latents, new Shape(1, vae.config().latentChannels(), latentHeight, latentWidth))
                    .div(vae.config().scalingFactor());
            return vae.decode(z).toFloatArray();
        }
    }

    @Override
    public GenerationResult generate(GenerationRequest request) {
        Objects.requireNonNull(request, "request");
        int multiple = vaeScale * unet.config().downsampleFactor();
        int width = request.width() == 0 ? unet.config().sampleSize() * vaeScale : request.width();
        int height = request.height() == 0 ? unet.config().sampleSize() * vaeScale : request.height();
        if (width % multiple != 0 || height % multiple != 0) {
            throw new IllegalArgumentException("width and height must be multiples of " + multiple + " for this model, got "
                    + width + "x" + height);
        }
        int lh = height / vaeScale;
        int lw = width / vaeScale;
        Scheduler sched = request.scheduler() == null ? scheduler : Schedulers.create(request.scheduler(), scheduler.config());
        Schedule schedule = sched.schedule(request.steps());
        try (NDManager scope = manager.newSubManager()) {
            long t0 = System.nanoTime();
            NDArray cond = encodePrompt(scope, request.prompt());
            NDArray uncond = request.guidanceScale() > 1f ? encodePrompt(scope, request.negativePrompt()) : null;
            long t1 = System.nanoTime();
            float[] init = initialLatents(request.seed(), lh, lw, schedule);
            SteeringSession steering = null;
            if (request.steering() != null) {
                if (classifier == null) {
                    throw new IllegalStateException("steering needs a relation classifier: load one with "
                            + "StableDiffusion.builder().optRelationClassifier(path)");
                }
                steering = new SteeringSession(request.steering(), tokenizer.tokenize(request.prompt()), unet, classifier, cond,
                        new Shape(1, unet.config().inChannels(), lh, lw));
            }
            PictureRecorder pictures = null;
            if (steering != null && request.steering().picturesDir() != null) {
                var first = steering.run().bindings().values().iterator().next();
                SteeringSession s = steering;
                pictures = new PictureRecorder(this, first.subjectPositions(), first.objectPositions(),
                        i -> s.run().isSteered(i, schedule.size()), lh, lw, height, width);
            }
            float[] latents = denoise(cond, uncond, init, lh, lw, schedule, request.guidanceScale(), steering, pictures, null);
            long t2 = System.nanoTime();
            float[] pixels = decode(scope, latents, lh, lw);
            BufferedImage image = PngImages.fromChw(pixels, height, width);
            long t3 = System.nanoTime();
            int calls = schedule.timesteps().length + (steering == null ? 0 : steering.run().evaluations());
            StageTimings timings = new StageTimings(t1 - t0, t2 - t1, steering == null ? 0 : steering.run().nanos(), t3 - t2, calls);
            Map<String, String> meta = request.metadata(sched.type().name(), width, height, description);
            if (steering != null) {
                meta.putAll(steering.run().metadata());
            }
            if (pictures != null) {
                writePictures(request, pictures, image, meta, steering);
                meta.put("steering_pictures", request.steering().picturesDir().toString());
            }
            return new GenerationResult(image, request, latents, timings, steering == null ? List.of() : steering.run().reports(), meta);
        }
    }

    /** The seeded initial latent, scaled by the schedule's init noise sigma. */
    private float[] initialLatents(long seed, int latentHeight, int latentWidth, Schedule schedule) {
        return InitialNoise.latents(seed, unet.config().inChannels() * latentHeight * latentWidth, schedule.initNoiseSigma());
    }

    /** Runs the vanilla baseline with the same seed, recording the same steps, and writes the pictures. */
    private void writePictures(GenerationRequest request, PictureRecorder steered, BufferedImage steeredImage,
            Map<String, String> meta, SteeringSession steering) {
        GenerationRequest plain = request.withoutSteering();
        var first = steering.run().bindings().values().iterator().next();
        int lh = steeredImage.getHeight() / vaeScale;
        int lw = steeredImage.getWidth() / vaeScale;
        Scheduler sched = request.scheduler() == null ? scheduler : Schedulers.create(request.scheduler(), scheduler.config());
        Schedule schedule = sched.schedule(request.steps());
        PictureRecorder vanilla = new PictureRecorder(this, first.subjectPositions(), first.objectPositions(),
                i -> steering.run().isSteered(i, schedule.size()), lh, lw, steeredImage.getHeight(), steeredImage.getWidth());
        try (NDManager scope = manager.newSubManager()) {
            NDArray cond = encodePrompt(scope, plain.prompt());
            NDArray uncond = plain.guidanceScale() > 1f ? encodePrompt(scope, plain.negativePrompt()) : null;
            float[] init = initialLatents(plain.seed(), lh, lw, schedule);
            float[] latents = denoise(cond, uncond, init, lh, lw, schedule, plain.guidanceScale(), null, vanilla, null);
            BufferedImage vanillaImage = PngImages.fromChw(decode(scope, latents, lh, lw), steeredImage.getHeight(),
                    steeredImage.getWidth());
            PictureRecorder.write(request.steering().picturesDir(), first.triplet().subject(), first.triplet().object(),
                    steered, vanilla, steeredImage, vanillaImage, meta);
        }
    }

    @Override
    public void close() {
        if (classifier != null) {
            classifier.close();
        }
        manager.close();
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

        private Builder() {
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
            if (folder == null) {
                throw new IllegalStateException("setModelFolder(...) is required");
            }
            ModelFolder mf = ModelFolder.open(folder, variant);
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
            ClipTokenizer tokenizer = ClipTokenizer.fromFolder(mf.component("tokenizer"));
            NDManager manager = device == null ? NDManager.newBaseManager() : NDManager.newBaseManager(device);
            try {
                ClipTextModel text = new ClipTextModel(textConfig);
                UNet2DConditionModel unet = new UNet2DConditionModel(unetConfig);
                AutoencoderKL vae = new AutoencoderKL(vaeConfig);
                if (randomSeed != null) {
                    ModelWeights.randomize(text, randomSeed, manager);
                    ModelWeights.randomize(unet, randomSeed + 1, manager);
                    ModelWeights.randomize(vae, randomSeed + 2, manager);
                } else {
                    ModelWeights.load(text, mf.weights("text_encoder", "model"), manager);
                    ModelWeights.load(unet, mf.weights("unet", "diffusion_pytorch_model"), manager);
                    ModelWeights.load(vae, mf.weights("vae", "diffusion_pytorch_model"), manager);
                }
                String desc = folder.toAbsolutePath().normalize().getFileName() + " (UNet "
                        + String.format(Locale.ROOT, "%.0fM", unet.parameterCount() / 1e6) + " params"
                        + (randomSeed != null ? ", random weights seed " + randomSeed : "") + ")";
                RelationClassifier relations = classifierPath == null ? null
                        : PublishedRelationClassifier.load(classifierPath, manager);
                return new StableDiffusion(manager, tokenizer, text, unet, vae, sched, relations, desc);
            } catch (RuntimeException e) {
                manager.close();
                throw e;
            }
        }
    }
}
