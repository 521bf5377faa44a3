package dev.steer.pytorch.unet;

import ai.djl.ndarray.NDArray;
import dev.steer.core.attention.CrossAttentionLayer;

/**
 * Receives the cross-attention probabilities of every {@code attn2} layer of a UNet forward pass,
 * in execution order. The arrays belong to the forward pass's scope and carry autograd history
 * when the input does.
 */
@FunctionalInterface
public interface CrossAttentionHook {
    /**
     * @param layer which layer
     * @param height the layer's spatial grid height
     * @param width the layer's spatial grid width
     * @param probabilities [batch, heads, height * width, tokens], pixels row-major
     */
    void onCrossAttention(CrossAttentionLayer layer, int height, int width, NDArray probabilities);
}
