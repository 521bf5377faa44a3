package dev.steer.pytorch.inversion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.engine.GenerationScope;
import dev.steer.core.engine.StepObserver;
import dev.steer.core.internal.flux.FluxLatents;
import dev.steer.core.scheduler.FlowMatchSchedule;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.pytorch.flux.FluxPrompt;
import dev.steer.pytorch.pipeline.FluxPipeline;
import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * Inversion of a real image along a {@link FluxPipeline}'s flow: the noise that its Euler sampler
 * would carry back to the image, with fixed-point iterations per step, and the reconstruction that
 * checks it (the data side of Learn-to-Steer's dual inversion for FLUX; the official code uses
 * RF-Inversion, a controlled variant of the same ODE; this is the plain fixed-point Euler inversion,
 * whose reconstruction error {@link Reconstruction} reports).
 *
 * <p><b>Image in.</b> {@link #prepare} as {@link InversionImages#prepare} at the model's size (the
 * folder's declared {@code image_size}, else the family default, or {@link Builder#optSize}); the
 * latent is the VAE posterior's mean, shifted and scaled ({@code (mean - shift_factor) x
 * scaling_factor}).
 *
 * <p><b>Inversion.</b> On the flow-matching schedule of {@code steps} steps (sigmas
 * {@code s[0] > ... > s[n-1] > s[n] = 0}, shifted for the image's sequence length as sampling does),
 * the sampler's step {@code i} is {@code x[i+1] = x[i] + (s[i+1] - s[i]) v(x[i], t[i])}. Inversion
 * step {@code j = n-1 .. 0} solves it for {@code x[j]} given {@code x[j+1]}: plain inversion evaluates
 * the velocity at the known {@code x[j+1]}, {@code x[j] = x[j+1] - (s[j+1] - s[j]) v(x[j+1], t[j])};
 * each fixed-point iteration re-evaluates it at the newest estimate of {@code x[j]}, converging to the
 * latent that the sampler's Euler step carries exactly to {@code x[j+1]}. The transformer sees the
 * conditional prompt alone, at the guidance of {@link Builder#optGuidance} (1 unless set; a [dev]
 * model takes it as its embedded guidance).
 *
 * <p><b>Reconstruction.</b> {@link #reconstruct} denoises from the inverted noise with the same
 * prompt, schedule and guidance through the pipeline's generation engine (so an attention
 * {@link StepObserver} can record maps on the way), decodes, and measures the PSNR against the
 * prepared input in [0, 1] pixel space.
 *
 * <p>Not thread-safe (the pipeline is not). Native memory lives in scopes closed before each method
 * returns; results are Java arrays.
 */
public final class FlowMatchInversion extends InversionBase {
    private final FluxPipeline flux;
    private final float guidance;

    private FlowMatchInversion(Builder b) {
        super(b, b.pipeline.defaults().imageSize(), b.pipeline.vaeScaleFactor(), 2 * b.pipeline.vaeScaleFactor()); // 2x2 packing
        this.flux = b.pipeline;
        this.guidance = b.guidance;
        schedule(); // validates the step count against the scheduler config
    }

    /** Starts configuring an inversion. */
    public static Builder builder() {
        return new Builder();
    }

    /** The pipeline whose models are used. */
    public FluxPipeline pipeline() {
        return flux;
    }

    /** The guidance the transformer is given while inverting and re-denoising. */
    public float guidance() {
        return guidance;
    }

    @Override
    public int mapsPerWord() {
        int n = 0;
        for (dev.steer.core.attention.CrossAttentionLayer l : flux.transformer().crossAttentionLayers()) {
            n += l.heads();
        }
        return n;
    }

    @Override
    public TokenizedPrompt tokenize(String prompt) {
        return flux.engine().backend().tokenize(prompt);
    }

    @Override
    public String modelDescription() {
        return flux.modelDescription();
    }

    /** A fresh schedule of {@link #steps()} steps for this image size (the one inversion and reconstruction use). */
    public FlowMatchSchedule schedule() {
        return (FlowMatchSchedule) flux.scheduler().schedule(steps(), FluxLatents.sequenceLength(latentHeight(), latentWidth()));
    }

    @Override
    public EncodedImage encode(BufferedImage image) {
        BufferedImage prepared = prepare(image);
        try (NDManager scope = flux.manager().newSubManager()) {
            NDArray x = scope.create(InversionImages.toChw(prepared), new Shape(1, 3, height(), width()));
            NDArray mean = flux.vae().scaleLatents(flux.vae().encode(x).mean());
            return new EncodedImage(prepared, mean.toFloatArray());
        }
    }

    @Override
    public Inverted invert(EncodedImage encoded, String prompt) {
        return invertLatent(encoded.latent(), encoded.image(), prompt);
    }

    /**
     * Inverts a clean latent [C * h * w] (already shifted and scaled) with {@code prompt}.
     *
     * @param image the image it came from, for PSNR; may be null
     * @return the trajectory, with timesteps {@code round(1000 sigma)}: 0 for the clean latent, then
     *     {@code t[n-1], ..., t[0]}
     */
    public Inverted invertLatent(float[] cleanLatent, BufferedImage image, String prompt) {
        Objects.requireNonNull(prompt, "prompt");
        checkLatent(cleanLatent, flux.vae().config().latentChannels());
        FlowMatchSchedule schedule = schedule();
        float[] sigmas = schedule.sigmas();
        float[] modelT = schedule.modelTimesteps();
        int lh = latentHeight();
        int lw = latentWidth();
        try (GenerationScope<FluxPrompt> scope = flux.engine().backend().openScope()) {
            FluxPrompt cond = scope.encode(tokenize(prompt));
            // the sampler's (negative) step is sigmas[j+1] - sigmas[j]
            return trajectory(prompt, image, cleanLatent, schedule.timesteps(), 0, (j, below, at) -> eulerInverse(below,
                    scope.predict(cond, at, 1, lh, lw, modelT[j], guidance, null, 0), sigmas[j + 1] - sigmas[j]));
        }
    }

    /** The latent that {@code x + dt v} maps to {@code target}: {@code target - dt v}, in float32 as the sampler steps. */
    private static float[] eulerInverse(float[] target, float[] velocity, float dt) {
        float[] out = new float[target.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = target[i] - dt * velocity[i];
        }
        return out;
    }

    @Override
    public Reconstruction reconstruct(Inverted inverted, StepObserver observer) {
        int lh = inverted.latentHeight();
        int lw = inverted.latentWidth();
        checkMatches(inverted);
        try (GenerationScope<FluxPrompt> scope = flux.engine().backend().openScope()) {
            FluxPrompt cond = scope.encode(tokenize(inverted.prompt()));
            float[] latent = flux.engine().denoise(scope, cond, null, inverted.noise(), lh, lw, schedule(), guidance, observer, null);
            return InversionImages.reconstruction(inverted, latent, scope.decode(latent, lh, lw), height(), width());
        }
    }

    /**
     * Configures a {@link FlowMatchInversion}: the pipeline is required; steps (28), fixed-point
     * iterations (5), guidance (1), image fit (stretch) and size (the model's) are optional.
     */
    public static final class Builder extends InversionBase.Settings<Builder> {
        private FluxPipeline pipeline;
        private float guidance = 1f;

        private Builder() {
            super(28);
        }

        /** The pipeline whose VAE, text encoders, transformer and scheduler config are used (required). */
        public Builder setPipeline(FluxPipeline pipeline) {
            this.pipeline = pipeline;
            return this;
        }

        /**
         * The guidance given to the transformer (default 1: the conditional velocity alone; for a
         * [dev] model, its embedded guidance value).
         */
        public Builder optGuidance(float guidance) {
            if (!(guidance >= 0) || Float.isInfinite(guidance)) {
                throw new IllegalArgumentException("guidance must be a finite value >= 0, got " + guidance);
            }
            this.guidance = guidance;
            return this;
        }

        /**
         * Builds the inversion.
         *
         * @throws IllegalStateException without a pipeline
         * @throws IllegalArgumentException for a size the model cannot take or a step count the scheduler refuses
         */
        public FlowMatchInversion build() {
            if (pipeline == null) {
                throw new IllegalStateException("setPipeline(...) is required");
            }
            return new FlowMatchInversion(this);
        }
    }
}
