package dev.steer.pytorch.inversion;

import java.awt.image.BufferedImage;

/**
 * A re-denoised inversion.
 *
 * @param latent the final latent of the re-denoising
 * @param image the decoded image
 * @param psnr PSNR against the inverted image in [0, 1] pixel space (dB), NaN when a bare latent was inverted
 * @param latentError relative L2 error of {@code latent} against the clean latent that was inverted
 */
public record Reconstruction(float[] latent, BufferedImage image, double psnr, double latentError) {
}
