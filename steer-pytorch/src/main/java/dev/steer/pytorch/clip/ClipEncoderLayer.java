package dev.steer.pytorch.clip;

import ai.djl.ndarray.NDArray;
import dev.steer.pytorch.internal.nn.Activations;
import dev.steer.pytorch.internal.nn.LayerNorm;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;

/** transformers' {@code CLIPEncoderLayer}: pre-norm self-attention and MLP, each with a residual. */
final class ClipEncoderLayer extends Module {
    private final ClipAttention selfAttn;
    private final LayerNorm layerNorm1;
    private final Linear fc1;
    private final Linear fc2;
    private final LayerNorm layerNorm2;
    private final Activations act;

    ClipEncoderLayer(int hidden, int intermediate, int heads, float eps, Activations act) {
        selfAttn = child("self_attn", new ClipAttention(hidden, heads));
        layerNorm1 = child("layer_norm1", new LayerNorm(hidden, eps));
        fc1 = child("mlp.fc1", new Linear(hidden, intermediate, true));
        fc2 = child("mlp.fc2", new Linear(intermediate, hidden, true));
        layerNorm2 = child("layer_norm2", new LayerNorm(hidden, eps));
        this.act = act;
    }

    NDArray forward(NDArray x, NDArray mask) {
        NDArray h = x.add(selfAttn.forward(layerNorm1.forward(x), mask));
        return h.add(fc2.forward(act.apply(fc1.forward(layerNorm2.forward(h)))));
    }
}
