package dev.steer.core.engine;

/**
 * The shape of a model's latent space.
 *
 * @param channels latent channels (4 for SD)
 * @param pixelsPerCell image pixels per latent cell along each axis (the VAE's scale, 8 for SD)
 * @param sizeMultiple image width and height must be multiples of this (VAE scale x the denoiser's downsampling)
 * @param defaultLatentSize the model's native latent side (its {@code sample_size}), used when a request gives no size
 */
public record LatentGeometry(int channels, int pixelsPerCell, int sizeMultiple, int defaultLatentSize) {

    /** Validates ranges. */
    public LatentGeometry {
        if (channels < 1 || pixelsPerCell < 1 || sizeMultiple < 1 || defaultLatentSize < 1) {
            throw new IllegalArgumentException("latent geometry values must be positive: " + channels + ", " + pixelsPerCell + ", "
                    + sizeMultiple + ", " + defaultLatentSize);
        }
    }

    /**
     * The geometry of a UNet family model: sizes are multiples of the VAE's scale times the UNet's
     * downsampling.
     */
    public static LatentGeometry ofUNet(int channels, int vaeScale, int downsampleFactor, int sampleSize) {
        return new LatentGeometry(channels, vaeScale, vaeScale * downsampleFactor, sampleSize);
    }

    /** The default image side in pixels. */
    public int defaultImageSize() {
        return defaultLatentSize * pixelsPerCell;
    }
}
