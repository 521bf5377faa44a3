package dev.steer.core.internal.flux;

/**
 * FLUX's latent layout, as diffusers' {@code FluxPipeline} builds it: the VAE latent [C, h, w] is
 * packed into (h/2)(w/2) tokens of 4C features ({@code _pack_latents}: token k is grid row k / (w/2),
 * column k % (w/2); feature c*4 + dy*2 + dx), and every token gets a 3-axis position id: zeros for
 * text tokens ({@code encode_prompt}), (0, row, column) for image tokens
 * ({@code _prepare_latent_image_ids}). The transformer's joint sequence is [text; image].
 */
public final class FluxLatents {
    private FluxLatents() {
    }

    /** Position id axes. */
    public static final int ID_AXES = 3;

    /**
     * Packs latents [batch, C, h, w] (flattened) to [batch, (h/2)(w/2), 4C].
     *
     * @throws IllegalArgumentException when h or w is odd or the length does not match
     */
    public static float[] pack(float[] latents, int batch, int channels, int height, int width) {
        return permute(latents, batch, channels, height, width, true);
    }

    /** The inverse of {@link #pack}: [batch, (h/2)(w/2), 4C] to [batch, C, h, w]. */
    public static float[] unpack(float[] packed, int batch, int channels, int height, int width) {
        return permute(packed, batch, channels, height, width, false);
    }

    private static float[] permute(float[] in, int batch, int channels, int height, int width, boolean pack) {
        check(in.length, batch, channels, height, width);
        int gw = width / 2;
        int features = channels * 4;
        float[] out = new float[in.length];
        for (int b = 0; b < batch; b++) {
            int base = b * channels * height * width;
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < height; y++) {
                    for (int x = 0; x < width; x++) {
                        int packedIndex = base + ((y / 2) * gw + x / 2) * features + c * 4 + (y % 2) * 2 + x % 2;
                        int latentIndex = base + (c * height + y) * width + x;
                        if (pack) {
                            out[packedIndex] = in[latentIndex];
                        } else {
                            out[latentIndex] = in[packedIndex];
                        }
                    }
                }
            }
        }
        return out;
    }

    private static void check(int length, int batch, int channels, int height, int width) {
        if (height % 2 != 0 || width % 2 != 0) {
            throw new IllegalArgumentException("FLUX latents need an even height and width, got " + height + "x" + width);
        }
        if ((long) batch * channels * height * width != length) {
            throw new IllegalArgumentException(length + " values are not " + batch + "x" + channels + "x" + height + "x" + width);
        }
    }

    /** Image token ids [gridHeight * gridWidth, 3]: row k = (0, k / gridWidth, k % gridWidth). */
    public static float[] imageIds(int gridHeight, int gridWidth) {
        float[] ids = new float[gridHeight * gridWidth * ID_AXES];
        for (int k = 0; k < gridHeight * gridWidth; k++) {
            ids[k * ID_AXES + 1] = k / gridWidth;
            ids[k * ID_AXES + 2] = k % gridWidth;
        }
        return ids;
    }

    /** The ids of the joint sequence [T + gridHeight * gridWidth, 3]: T zero rows, then {@link #imageIds}. */
    public static float[] jointIds(int textTokens, int gridHeight, int gridWidth) {
        float[] image = imageIds(gridHeight, gridWidth);
        float[] ids = new float[textTokens * ID_AXES + image.length];
        System.arraycopy(image, 0, ids, textTokens * ID_AXES, image.length);
        return ids;
    }

    /** The image token count of a latent h x w: the {@code image_seq_len} that sets the dynamic schedule shift. */
    public static int sequenceLength(int latentHeight, int latentWidth) {
        return (latentHeight / 2) * (latentWidth / 2);
    }
}
