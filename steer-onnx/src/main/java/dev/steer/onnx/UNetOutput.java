package dev.steer.onnx;

import java.util.List;

/**
 * What one UNet call returns.
 *
 * @param noise the model's prediction (epsilon or v), [batch, channels, height, width]
 * @param attention the requested cross-attention layers' probabilities in execution order (empty
 *     when none were requested: then ONNX Runtime does not fetch them)
 */
public record UNetOutput(FloatTensor noise, List<CrossAttentionOutput> attention) {

    /** Keeps an immutable copy of the list. */
    public UNetOutput {
        attention = List.copyOf(attention);
    }
}
