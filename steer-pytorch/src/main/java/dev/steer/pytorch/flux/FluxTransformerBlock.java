package dev.steer.pytorch.flux;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.steer.pytorch.nn.Module;
import java.util.function.Consumer;

/**
 * diffusers' {@code FluxTransformerBlock}: a double-stream MMDiT block. Text and image streams keep
 * their own adaptive norms ({@code norm1}, {@code norm1_context}), feed-forwards ({@code ff},
 * {@code ff_context}) and projections, and meet in one joint attention.
 */
final class FluxTransformerBlock extends Module {
    private final AdaptiveNorm norm1;
    private final AdaptiveNorm norm1Context;
    private final FluxAttention attn;
    private final FeedForward ff;
    private final FeedForward ffContext;

    FluxTransformerBlock(int dim, int heads, int headDim) {
        norm1 = child("norm1", new AdaptiveNorm(dim, 6));
        norm1Context = child("norm1_context", new AdaptiveNorm(dim, 6));
        attn = child("attn", new FluxAttention(dim, heads, headDim, true));
        ff = child("ff", new FeedForward(dim));
        ffContext = child("ff_context", new FeedForward(dim));
    }

    FluxAttention attention() {
        return attn;
    }

    /** @return [image [B, N, dim], text [B, T, dim]] */
    NDList forward(NDArray image, NDArray text, NDArray conditioning, RotaryEmbedding rope, Consumer<NDArray> observer) {
        NDList m = norm1.modulation(conditioning); // shift, scale, gate (attention), shift, scale, gate (MLP)
        NDList c = norm1Context.modulation(conditioning);
        NDArray x = AdaptiveNorm.modulate(image, m.get(0), m.get(1));
        NDArray y = AdaptiveNorm.modulate(text, c.get(0), c.get(1));
        NDList attended = attn.forwardDual(x, y, rope, observer);
        image = image.add(attended.get(0).mul(m.get(2)));
        image = image.add(ff.forward(AdaptiveNorm.modulate(image, m.get(3), m.get(4))).mul(m.get(5)));
        text = text.add(attended.get(1).mul(c.get(2)));
        text = text.add(ffContext.forward(AdaptiveNorm.modulate(text, c.get(3), c.get(4))).mul(c.get(5)));
        return new NDList(image, text);
    }
}
