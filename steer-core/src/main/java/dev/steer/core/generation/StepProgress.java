package dev.steer.core.generation;

import dev.steer.core.steering.SteeringStepReport;

/**
 * One completed denoising step.
 *
 * @param image index of the image in the call (0 for {@link Sampler#generate}; the request's index
 *     for {@link Sampler#generateAll})
 * @param images images in the call
 * @param step the step just completed (0 = first)
 * @param steps steps in the schedule
 * @param timestep the scheduler's timestep of this step
 * @param latents the latent after the step, flattened [C * H * W]; the engine's own array, read it
 *     and do not keep or modify it
 * @param elapsedNanos time since the generation of this image started
 * @param steering what steering did before this step, or null when the step was not steered
 */
public record StepProgress(int image, int images, int step, int steps, int timestep, float[] latents, long elapsedNanos,
        SteeringStepReport steering) {

    /** Whether this was the image's last step. */
    public boolean isLast() {
        return step == steps - 1;
    }
}
