package dev.steer.core.engine;

/**
 * Where in the schedule a steering objective is evaluated.
 *
 * @param index the denoising step (0 = first)
 * @param total steps in the schedule
 * @param modelTimestep the timestep passed to the denoiser at this step
 * @param classifierTimestep the classifier's timestep index for this step
 * @param inputScale the scheduler's model-input scale at this step (1 for DDIM; 1/sqrt(sigma^2+1) for Euler)
 * @param channels latent channels
 * @param latentHeight latent height
 * @param latentWidth latent width
 * @param generationSeed the request's seed (for backends whose objective draws random directions)
 * @param guidance the guidance value a model with embedded guidance takes at this step (FLUX.1 [dev])
 */
public record SteeringStep(int index, int total, float modelTimestep, int classifierTimestep, float inputScale, int channels,
        int latentHeight, int latentWidth, long generationSeed, float guidance) {
}
