package dev.steer.core.attention;

/**
 * One cross-attention layer of a denoiser, as both backends identify it.
 *
 * @param index position in execution order (0-based), the order of the reference's maps
 * @param name the module path, e.g. {@code down_blocks.0.attentions.1.transformer_blocks.0.attn2}
 * @param heads number of attention heads
 * @param downscale how many times smaller than the latent its spatial grid is (1, 2, 4, 8)
 */
public record CrossAttentionLayer(int index, String name, int heads, int downscale) {
}
