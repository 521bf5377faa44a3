package dev.steer.pytorch.clip;

import ai.djl.ndarray.NDArray;

/**
 * The outputs of {@link ClipTextModel#encode}: what SD pipelines condition on and what FLUX.1 also
 * takes from its CLIP encoder.
 *
 * @param lastHiddenState [B, T, hidden_size], after {@code final_layer_norm} (SD's {@code prompt_embeds})
 * @param pooled [B, hidden_size], the last hidden state at each row's end token (FLUX's {@code pooled_prompt_embeds})
 */
public record ClipTextOutput(NDArray lastHiddenState, NDArray pooled) {
}
