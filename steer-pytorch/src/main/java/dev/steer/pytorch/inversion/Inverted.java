package dev.steer.pytorch.inversion;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * The result of inverting one image with one prompt.
 *
 * @param prompt the prompt the denoiser saw
 * @param image the prepared input image (null when a bare latent was inverted)
 * @param latents the trajectory: {@code latents.get(0)} is the clean latent, {@code latents.get(k)}
 *     the latent after {@code k} inversion steps (at {@code timesteps[k]}), the last one the noise
 * @param timesteps the timestep of each latent: the clean end first (DDIM: {@code T[n-1] - stride},
 *     negative for the clean end; flow matching: 0), then {@code T[n-1], ..., T[0]}
 * @param residuals per inversion step (in inversion order), the relative L2 change made by its last
 *     fixed-point iteration (0 when there were none): how far from converged the step was left
 * @param latentHeight latent height
 * @param latentWidth latent width
 */
public record Inverted(String prompt, BufferedImage image, List<float[]> latents, int[] timesteps, double[] residuals,
        int latentHeight, int latentWidth) {
    /** The clean latent that was inverted. */
    public float[] cleanLatent() {
        return latents.get(0);
    }

    /** The inverted noise latent (at the schedule's first timestep), where re-denoising starts. */
    public float[] noise() {
        return latents.get(latents.size() - 1);
    }

    /** Number of inversion steps. */
    public int steps() {
        return latents.size() - 1;
    }
}
