package dev.steer.pytorch.inversion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.engine.StepObserver;
import dev.steer.core.scheduler.DDIMScheduler;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.scheduler.SchedulerType;
import dev.steer.core.scheduler.Schedulers;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.pytorch.pipeline.StableDiffusion;
import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * DDIM inversion of a real image to the noise a {@link StableDiffusion} model would denoise back into
 * it, with fixed-point iterations per step, and the reconstruction that checks it (the data side of
 * Learn-to-Steer's dual inversion; reference: 50 steps, 5 iterations, guidance 1).
 *
 * <p><b>Image in.</b> {@link #prepare} brings any image to the model size ({@code sample_size x VAE
 * scale}, e.g. 512x512 for SD 1.5, or {@link Builder#optSize}): with {@link ImageFit#STRETCH} (the
 * default) the whole image is resized to that size, changing its aspect ratio but keeping every object
 * in frame (left/right/above/below survive an axis-aligned stretch); with {@link ImageFit#CENTER_CROP}
 * it is scaled to cover the size and the centre is cut out. Downscaling halves the image with bilinear
 * filtering until within a factor of two, then finishes with bicubic filtering; transparent pixels are
 * composited over white. Pixels go to [-1, 1] CHW, and the latent is the VAE posterior's mean times
 * {@code scaling_factor}.
 *
 * <p><b>Inversion.</b> On the DDIM schedule of {@code steps} steps built from the model's scheduler
 * config (whatever sampler the folder names), with descending timesteps {@code T[0] > ... > T[n-1]}
 * and stride {@code s = num_train_timesteps / n}, step {@code j = n-1 .. 0} maps the latent at
 * {@code T[j] - s} (the clean latent for {@code j = n-1}) to {@code T[j]} by
 * {@link DDIMScheduler#invertStep}. Plain DDIM inversion uses the UNet's prediction for the
 * <i>current</i> latent at {@code T[j]}; each fixed-point iteration re-predicts at the newest estimate
 * of the latent at {@code T[j]} and redoes the step from the same start, converging to the latent the
 * forward DDIM step maps exactly back. The UNet sees the conditional prompt alone (guidance 1).
 *
 * <p><b>Reconstruction.</b> {@link #reconstruct} denoises from the inverted noise with the same
 * prompt, schedule and guidance 1 through {@link StableDiffusion#denoise} (so an attention
 * {@link StepObserver} can record maps on the way), decodes, and measures the PSNR
 * against the prepared input in [0, 1] pixel space (dB; {@code +Infinity} for identical images).
 *
 * <p>Not thread-safe (the pipeline is not). Native memory lives in scopes closed before each method
 * returns; results are Java arrays.
 */
public final class DdimInversion extends InversionBase {

    private final StableDiffusion sd;
    private final DDIMScheduler ddim;

    private DdimInversion(Builder b) {
        super(b, b.pipeline.unet().config().sampleSize() * b.pipeline.vaeScaleFactor(), b.pipeline.vaeScaleFactor(),
                b.pipeline.vaeScaleFactor() * b.pipeline.unet().config().downsampleFactor());
        this.sd = b.pipeline;
        this.ddim = (DDIMScheduler) Schedulers.create(SchedulerType.DDIM, sd.scheduler().config());
        ddim.schedule(steps()); // validates the step count against the config
    }

    /** Starts configuring an inversion. */
    public static Builder builder() {
        return new Builder();
    }

    /** The pipeline whose models are used. */
    public StableDiffusion pipeline() {
        return sd;
    }

    /** The DDIM scheduler built from the model's scheduler config. */
    public DDIMScheduler scheduler() {
        return ddim;
    }

    @Override
    public int mapsPerWord() {
        int n = 0;
        for (dev.steer.core.attention.CrossAttentionLayer l : sd.unet().crossAttentionLayers()) {
            n += l.heads();
        }
        return n;
    }

    @Override
    public TokenizedPrompt tokenize(String prompt) {
        return sd.tokenizer().tokenize(prompt);
    }

    @Override
    public String modelDescription() {
        return sd.modelDescription();
    }

    /** A fresh DDIM schedule of {@link #steps()} steps (the one inversion and reconstruction use). */
    public Schedule schedule() {
        return ddim.schedule(steps());
    }

    /** Prepares and encodes an image: the clean latent to invert. */
    @Override
    public EncodedImage encode(BufferedImage image) {
        BufferedImage prepared = prepare(image);
        try (NDManager scope = sd.manager().newSubManager()) {
            NDArray x = scope.create(InversionImages.toChw(prepared), new Shape(1, 3, height(), width()));
            NDArray mean = sd.vae().scaleLatents(sd.vae().encode(x).mean());
            return new EncodedImage(prepared, mean.toFloatArray());
        }
    }

    /** Inverts an encoded image with {@code prompt} (encode once, invert with several prompts). */
    @Override
    public Inverted invert(EncodedImage encoded, String prompt) {
        return invertLatent(encoded.latent(), encoded.image(), prompt);
    }

    /**
     * Inverts a clean latent [C * h * w] (already times the scaling factor) with {@code prompt}.
     *
     * @param image the image it came from, for PSNR; may be null
     */
    public Inverted invertLatent(float[] cleanLatent, BufferedImage image, String prompt) {
        Objects.requireNonNull(prompt, "prompt");
        int channels = sd.unet().config().inChannels();
        checkLatent(cleanLatent, channels);
        Schedule schedule = schedule();
        int[] t = schedule.timesteps();
        float[] modelT = schedule.modelTimesteps();
        int stride = ddim.config().numTrainTimesteps() / steps();
        try (NDManager scope = sd.manager().newSubManager()) {
            NDArray cond = sd.encodePrompt(scope, prompt);
            Shape shape = new Shape(1, channels, latentHeight(), latentWidth());
            return trajectory(prompt, image, cleanLatent, t, t[t.length - 1] - stride,
                    (j, below, at) -> ddim.invertStep(predict(scope, at, shape, modelT[j], cond), t[j] - stride, t[j], below));
        }
    }

    private float[] predict(NDManager scope, float[] latent, Shape shape, float timestep, NDArray cond) {
        try (NDManager call = scope.newSubManager()) {
            NDArray x = call.create(latent, shape);
            NDArray ts = call.create(new float[] {timestep});
            return sd.unet().forward(x, ts, cond, null).toFloatArray();
        }
    }

    /**
     * Denoises from {@code inverted.noise()} with the same prompt and DDIM schedule at guidance 1,
     * letting {@code observer} (may be null) probe chosen steps' cross-attention, then decodes and
     * measures PSNR against the inverted image and the latent error against the clean latent.
     */
    @Override
    public Reconstruction reconstruct(Inverted inverted, StepObserver observer) {
        int lh = inverted.latentHeight();
        int lw = inverted.latentWidth();
        checkMatches(inverted);
        try (NDManager scope = sd.manager().newSubManager()) {
            NDArray cond = sd.encodePrompt(scope, inverted.prompt());
            float[] latent = sd.denoise(cond, null, inverted.noise(), lh, lw, schedule(), 1f, observer, null);
            return InversionImages.reconstruction(inverted, latent, sd.decode(scope, latent, lh, lw), height(), width());
        }
    }

    /**
     * Configures a {@link DdimInversion}: the pipeline is required; steps (50), fixed-point
     * iterations (5), image fit (stretch) and size (the model's) are optional.
     */
    public static final class Builder extends InversionBase.Settings<Builder> {
        private StableDiffusion pipeline;

        private Builder() {
            super(50);
        }

        /** The pipeline whose VAE, text encoder, UNet and scheduler config are used (required). */
        public Builder setPipeline(StableDiffusion pipeline) {
            this.pipeline = pipeline;
            return this;
        }

        /**
         * Builds the inversion.
         *
         * @throws IllegalStateException without a pipeline
         * @throws IllegalArgumentException for a size the model cannot take or a step count the scheduler refuses
         */
        public DdimInversion build() {
            if (pipeline == null) {
                throw new IllegalStateException("setPipeline(...) is required");
            }
            return new DdimInversion(this);
        }
    }
}
