package dev.steer.core.attention;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Watches a denoiser call's cross-attention layers and keeps the maps of chosen token positions,
 * producing the relation classifier's input in the reference layout: per word, maps ordered by
 * resolution ascending, then layer in execution order, then head; each bilinearly resized to 16x16
 * and renormalised to sum 1; a word of several tokens averages its tokens' maps.
 *
 * <p>A backend calls {@link #onCrossAttention} for every layer the probe {@link #wants}, with the
 * conditional branch's probabilities only. A generation without a probe keeps no attention
 * tensors. Implementations are backend-specific (differentiable on LibTorch), this is the contract
 * the samplers and steerers of both backends share.
 */
public interface AttentionProbe {

    /** The token positions of each word, in order (subject first, then object). */
    List<int[]> wordTokenPositions();

    /** Whether this layer's maps are wanted (all layers by default). */
    default boolean wants(CrossAttentionLayer layer) {
        return true;
    }

    /**
     * Receives one layer's cross-attention probabilities.
     *
     * @param probabilities [heads, height * width, tokens] for the conditional prompt, pixels row-major
     */
    void onCrossAttention(CrossAttentionLayer layer, int height, int width, NDArray probabilities);

    /** The collected maps as [words, maps, 16, 16]; fails if no layer was observed. */
    NDArray classifierInput();

    /** Number of maps per word collected so far. */
    int mapCount();

    /** Forgets what was collected (before the next denoiser call). */
    void clear();
}
