package dev.steer.pytorch.inversion;

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
