package dev.steer.spark;

import java.io.Serializable;

/**
 * The settings of rows that do not give their own (a request row's columns override each of these):
 * whether to steer, steps, guidance, size and the steering settings. Null means the model's own
 * default ({@link dev.steer.core.generation.Sampler#defaults()}; the classifier's {@code steering.json}
 * for the steering settings).
 *
 * @param steer whether rows are steered (rows without a classifier loaded then fail as bad rows)
 * @param steps denoising steps, or null
 * @param guidance guidance scale, or null
 * @param width image width in pixels, or null
 * @param height image height in pixels, or null
 * @param stepSize steering gradient step size, or null
 * @param iterations most refinement iterations per steered step, or null
 * @param endFraction steer until this fraction of the schedule, or null
 */
public record SteerSettings(boolean steer, Integer steps, Float guidance, Integer width, Integer height, Float stepSize,
        Integer iterations, Double endFraction) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Steered, everything else the model's defaults. */
    public static final SteerSettings DEFAULTS = new SteerSettings(true, null, null, null, null, null, null, null);

    /** The same settings, steered or not. */
    public SteerSettings withSteer(boolean on) {
        return new SteerSettings(on, steps, guidance, width, height, stepSize, iterations, endFraction);
    }

    /** The same settings with a number of steps. */
    public SteerSettings withSteps(Integer n) {
        return new SteerSettings(steer, n, guidance, width, height, stepSize, iterations, endFraction);
    }

    /** The same settings with a guidance scale. */
    public SteerSettings withGuidance(Float g) {
        return new SteerSettings(steer, steps, g, width, height, stepSize, iterations, endFraction);
    }

    /** The same settings with an image size. */
    public SteerSettings withSize(Integer w, Integer h) {
        return new SteerSettings(steer, steps, guidance, w, h, stepSize, iterations, endFraction);
    }

    /** The same settings with steering settings (each null for the classifier's recommendation). */
    public SteerSettings withSteering(Float step, Integer maxIterations, Double end) {
        return new SteerSettings(steer, steps, guidance, width, height, step, maxIterations, end);
    }
}
