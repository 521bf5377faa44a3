package dev.steer.onnx;

import dev.steer.core.attention.CrossAttentionLayer;

/**
 * The cross-attention probabilities of one layer from one UNet call.
 *
 * @param layer the layer
 * @param height the layer's spatial grid height
 * @param width the layer's spatial grid width
 * @param probabilities [batch, heads, height * width, tokens], pixels row-major; flattened, this is
 *     the [batch * heads, height * width, tokens] layout of diffusers' attention processors (row
 *     {@code b * heads + head})
 */
public record CrossAttentionOutput(CrossAttentionLayer layer, int height, int width, FloatTensor probabilities) {

    /** The probabilities of batch item {@code b}: [heads, height * width, tokens] flattened. */
    public float[] item(int b) {
        int per = probabilities.size() / probabilities.dim(0);
        return java.util.Arrays.copyOfRange(probabilities.data(), b * per, (b + 1) * per);
    }
}
