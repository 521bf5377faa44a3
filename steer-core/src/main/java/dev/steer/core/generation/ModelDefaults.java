package dev.steer.core.generation;

import dev.steer.core.steering.SteeringConfig;
import java.util.Objects;

/**
 * The settings a model family is meant to run with, for programs that let users leave them out:
 * Stable Diffusion 50 steps at guidance 7.5; FLUX.1 [schnell] 4 steps, no guidance, 256x256 and
 * steering at the first step only; FLUX.1 [dev] 50 steps at guidance 3.5, 512x512, the first 25
 * steps steered (the published Learn-to-Steer settings).
 *
 * @param steps denoising steps
 * @param guidanceScale guidance scale
 * @param imageSize square image side in pixels
 * @param steering the steering settings for the published classifiers of this family
 */
public record ModelDefaults(int steps, float guidanceScale, int imageSize, SteeringConfig steering) {

    /** Validates. */
    public ModelDefaults {
        Objects.requireNonNull(steering, "steering");
        if (steps < 1 || imageSize < 1 || !(guidanceScale >= 0)) {
            throw new IllegalArgumentException("invalid defaults: " + steps + " steps, guidance " + guidanceScale + ", size " + imageSize);
        }
    }

    /** Stable Diffusion's: 50 steps, guidance 7.5, the reference steering defaults. */
    public static ModelDefaults stableDiffusion(int imageSize) {
        return new ModelDefaults(50, 7.5f, imageSize, SteeringConfig.DEFAULTS);
    }
}
