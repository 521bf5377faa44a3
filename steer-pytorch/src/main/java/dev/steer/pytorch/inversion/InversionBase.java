package dev.steer.pytorch.inversion;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What every {@link ImageInversion} shares: the step count, fixed-point iterations, image fit and
 * size (validated against the model), the latent size, and the builder options that set them.
 */
abstract class InversionBase implements ImageInversion {
    private final int steps;
    private final int iterations;
    private final ImageFit fit;
    private final int width;
    private final int height;
    private final int vaeScale;

    /**
     * @param naturalSize the model's own image side, used when the builder set no size
     * @param vaeScale pixels per latent cell
     * @param multiple what width and height must be multiples of for this model
     */
    InversionBase(Settings<?> b, int naturalSize, int vaeScale, int multiple) {
        this.steps = b.steps;
        this.iterations = b.iterations;
        this.fit = b.fit;
        this.vaeScale = vaeScale;
        this.width = b.width == 0 ? naturalSize : b.width;
        this.height = b.height == 0 ? naturalSize : b.height;
        if (width <= 0 || height <= 0 || width % multiple != 0 || height % multiple != 0) {
            throw new IllegalArgumentException("width and height must be positive multiples of " + multiple + " for this model, got "
                    + width + "x" + height);
        }
    }

    @Override
    public int steps() {
        return steps;
    }

    @Override
    public int fixedPointIterations() {
        return iterations;
    }

    @Override
    public ImageFit imageFit() {
        return fit;
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public int height() {
        return height;
    }

    /** Latent width. */
    public int latentWidth() {
        return width / vaeScale;
    }

    /** Latent height. */
    public int latentHeight() {
        return height / vaeScale;
    }

    /** One step of an inversion, as its sampler's step solved backwards. */
    interface StepInverse {
        /**
         * The latent at step {@code j}'s noise level from the latent {@code below} it, with the model
         * evaluated at {@code evaluatedAt} ({@code below} itself for the plain inversion, the newest
         * estimate of the result for a fixed-point iteration).
         */
        float[] apply(int j, float[] below, float[] evaluatedAt);
    }

    /** Refuses a clean latent of the wrong size for this inversion. */
    void checkLatent(float[] cleanLatent, int channels) {
        if (cleanLatent.length != channels * latentHeight() * latentWidth()) {
            throw new IllegalArgumentException("the latent must have " + channels + " x " + latentHeight() + " x " + latentWidth()
                    + " values, got " + cleanLatent.length);
        }
    }

    /**
     * The fixed-point inversion both samplers share: from the clean latent up the schedule
     * ({@code timesteps} highest first, step {@code j = n-1 .. 0}), each step taken plainly and then
     * refined {@link #fixedPointIterations()} times, the last refinement's relative change kept as the
     * step's residual.
     *
     * @param cleanTimestep the timestep recorded for the clean latent
     */
    Inverted trajectory(String prompt, BufferedImage image, float[] cleanLatent, int[] timesteps, int cleanTimestep, StepInverse step) {
        int n = timesteps.length;
        List<float[]> latents = new ArrayList<>(n + 1);
        int[] times = new int[n + 1];
        double[] residuals = new double[n];
        latents.add(cleanLatent.clone());
        times[0] = cleanTimestep;
        float[] z = cleanLatent.clone();
        for (int k = 0; k < n; k++) {
            int j = n - 1 - k;
            float[] next = step.apply(j, z, z);
            for (int it = 0; it < iterations; it++) {
                float[] refined = step.apply(j, z, next);
                residuals[k] = InversionImages.relativeL2(refined, next);
                next = refined;
            }
            z = next;
            latents.add(z);
            times[k + 1] = timesteps[j];
        }
        return new Inverted(prompt, image, List.copyOf(latents), times, residuals, latentHeight(), latentWidth());
    }

    /** Refuses a trajectory made with another step count or latent size than this inversion's. */
    void checkMatches(Inverted inverted) {
        if (inverted.steps() != steps || inverted.latentHeight() != latentHeight() || inverted.latentWidth() != latentWidth()) {
            throw new IllegalArgumentException("this inversion was made with " + inverted.steps() + " steps at latent "
                    + inverted.latentHeight() + "x" + inverted.latentWidth() + "; this " + getClass().getSimpleName() + " uses " + steps
                    + " steps at " + latentHeight() + "x" + latentWidth());
        }
    }

    /** The builder options every inversion has; {@code B} is the concrete builder. */
    abstract static class Settings<B extends Settings<B>> {
        private int steps;
        private int iterations = 5;
        private ImageFit fit = ImageFit.STRETCH;
        private int width;
        private int height;

        Settings(int defaultSteps) {
            this.steps = defaultSteps;
        }

        @SuppressWarnings("unchecked")
        private B self() {
            return (B) this;
        }

        /** Inversion (and re-denoising) steps. */
        public B optSteps(int steps) {
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be >= 1, got " + steps);
            }
            this.steps = steps;
            return self();
        }

        /** Fixed-point iterations per step (default 5, the reference; 0 is the plain inversion). */
        public B optFixedPointIterations(int iterations) {
            if (iterations < 0) {
                throw new IllegalArgumentException("fixed-point iterations must be >= 0, got " + iterations);
            }
            this.iterations = iterations;
            return self();
        }

        /** How images are fitted to the model size (default {@link ImageFit#STRETCH}). */
        public B optImageFit(ImageFit fit) {
            this.fit = Objects.requireNonNull(fit, "fit");
            return self();
        }

        /** The image size to work at (default: the model's). */
        public B optSize(int width, int height) {
            if (width < 0 || height < 0) {
                throw new IllegalArgumentException("size must be positive, got " + width + "x" + height);
            }
            this.width = width;
            this.height = height;
            return self();
        }
    }
}
