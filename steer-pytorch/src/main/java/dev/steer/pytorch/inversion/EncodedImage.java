package dev.steer.pytorch.inversion;

import java.awt.image.BufferedImage;

/**
 * An image brought to the model size and encoded.
 *
 * @param image the prepared RGB image at the model size (the reference for PSNR)
 * @param latent the VAE posterior mean times the scaling factor, [C * h * w]
 */
public record EncodedImage(BufferedImage image, float[] latent) {
}
