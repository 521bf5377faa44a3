package dev.steer.core.engine;

/**
 * The shape of a model's latent space.
 *
 * @param channels latent channels (4 for SD)
 * @param pixelsPerCell image pixels per latent cell along each axis (the VAE's scale, 8 for SD)
 * @param sizeMultiple image width and height must be multiples of this (VAE scale x the denoiser's downsampling)
 * @param defaultLatentSize the model's native latent side (its {@code sample_size}), used when a request gives no size
 * @param tokenPatch the side of the latent patch that becomes one denoiser token (1 for the UNet, 2 for FLUX's packing)
 */
public record LatentGeometry(int channels, int pixelsPerCell, int sizeMultiple, int defaultLatentSize, int tokenPatch) {

    /** Validates ranges. */
    public LatentGeometry {
        if (channels < 1 || pixelsPerCell < 1 || sizeMultiple < 1 || defaultLatentSize < 1 || tokenPatch < 1) {
            throw new IllegalArgumentException("latent geometry values must be positive: " + channels + ", " + pixelsPerCell + ", "
                    + sizeMultiple + ", " + defaultLatentSize + ", " + tokenPatch);
        }
    }

    /** A geometry whose denoiser sees every latent cell (the UNet family). */
    public LatentGeometry(int channels, int pixelsPerCell, int sizeMultiple, int defaultLatentSize) {
        this(channels, pixelsPerCell, sizeMultiple, defaultLatentSize, 1);
    }

    /**
     * The geometry of a FLUX model: 2x2 latent patches packed into tokens, so sizes are multiples of
     * twice the VAE's scale.
     */
    public static LatentGeometry ofFlux(int channels, int vaeScale, int defaultLatentSize) {
        return new LatentGeometry(channels, vaeScale, vaeScale * 2, defaultLatentSize, 2);
    }

    /** The denoiser's image tokens for a latent h x w (what a resolution-dependent schedule shift reads). */
    public int sequenceLength(int latentHeight, int latentWidth) {
        return (latentHeight / tokenPatch) * (latentWidth / tokenPatch);
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
