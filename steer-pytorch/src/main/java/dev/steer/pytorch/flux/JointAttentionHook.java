package dev.steer.pytorch.flux;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.steer.core.attention.CrossAttentionLayer;

/**
 * Observes the joint (text + image) attention of a FLUX block: the seam where an attention probe
 * reads the image->text maps, as the published Learn-to-Steer attention processor does.
 */
@FunctionalInterface
public interface JointAttentionHook {

    /**
     * Called once per block and call, in execution order (double-stream blocks, then single-stream).
     *
     * @param layer the block's attention
     * @param textTokens T: the joint sequence is T text tokens followed by the image tokens
     * @param gridHeight image token rows
     * @param gridWidth image token columns
     * @param probabilities the joint softmax [batch, heads, T + N, T + N] (part of the autograd graph); it
     *     and what is computed from it live only as long as the block
     * @param call the scope of the whole transformer call: attach to it whatever the hook keeps
     */
    void onJointAttention(CrossAttentionLayer layer, int textTokens, int gridHeight, int gridWidth, NDArray probabilities,
            NDManager call);
}
