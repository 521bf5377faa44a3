package dev.steer.pytorch.flux;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.steer.pytorch.internal.nn.Activations;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;
import java.util.function.Consumer;

/**
 * diffusers' {@code FluxSingleTransformerBlock}: one stream over the joined [text; image] sequence,
 * attention and a 4x MLP in parallel from the same modulated input, concatenated and projected
 * ({@code proj_out}), gated and added to the residual.
 */
final class FluxSingleTransformerBlock extends Module {
    private final AdaptiveNorm norm;
    private final Linear projMlp;
    private final Linear projOut;
    private final FluxAttention attn;

    FluxSingleTransformerBlock(int dim, int heads, int headDim) {
        norm = child("norm", new AdaptiveNorm(dim, 3));
        projMlp = child("proj_mlp", new Linear(dim, 4L * dim, true));
        projOut = child("proj_out", new Linear(5L * dim, dim, true));
        attn = child("attn", new FluxAttention(dim, heads, headDim, false));
    }

    FluxAttention attention() {
        return attn;
    }

    NDArray forward(NDArray joint, NDArray conditioning, RotaryEmbedding rope, Consumer<NDArray> observer) {
        NDList m = norm.modulation(conditioning); // shift, scale, gate
        NDArray x = AdaptiveNorm.modulate(joint, m.get(0), m.get(1));
        NDArray mlp = Activations.GELU_TANH.apply(projMlp.forward(x));
        NDArray attended = attn.forwardSingle(x, rope, observer);
        NDArray out = projOut.forward(NDArrays.concat(new NDList(attended, mlp), 2)).mul(m.get(2));
        return joint.add(out);
    }
}
