package dev.steer.pytorch.flux;

import ai.djl.ndarray.NDArray;

/**
 * A prompt encoded for FLUX: the T5 hidden states the transformer attends to and the pooled CLIP
 * embedding it is conditioned on.
 *
 * @param textStates T5 last hidden states [1, T, jointAttentionDim]
 * @param pooled CLIP pooled output [1, pooledProjectionDim]
 */
public record FluxPrompt(NDArray textStates, NDArray pooled) {
}
