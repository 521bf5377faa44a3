package dev.steer.pytorch.relation;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import dev.steer.pytorch.internal.nn.LayerNorm;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;

/**
 * {@code torch.nn.TransformerEncoderLayer(d, nhead, dim_feedforward, dropout, activation="relu",
 * batch_first=True, norm_first=True)}: {@code x + SA(norm1(x))}, then
 * {@code x + linear2(relu(linear1(norm2(x))))}, layer norms with eps 1e-5. Dropout (in training) as
 * torch places it: on the attention probabilities, after the attention, after the ReLU, after the FFN.
 */
final class EncoderLayer extends Module {
    private static final float EPS = 1e-5f;

    private final MultiheadAttention selfAttn;
    private final Linear linear1;
    private final Linear linear2;
    private final LayerNorm norm1;
    private final LayerNorm norm2;
    private final float dropout;

    EncoderLayer(long dim, int heads, long feedforward, double dropout) {
        this.selfAttn = child("self_attn", new MultiheadAttention(dim, heads, dropout));
        this.linear1 = child("linear1", new Linear(dim, feedforward, true));
        this.linear2 = child("linear2", new Linear(feedforward, dim, true));
        this.norm1 = child("norm1", new LayerNorm(dim, EPS));
        this.norm2 = child("norm2", new LayerNorm(dim, EPS));
        this.dropout = (float) dropout;
    }

    /** x [B, L, d] -> [B, L, d]. */
    NDArray forward(NDArray x, boolean training) {
        NDArray h = x.add(drop(selfAttn.selfAttention(norm1.forward(x), training), training));
        NDArray ff = linear2.forward(drop(Activation.relu(linear1.forward(norm2.forward(h))), training));
        return h.add(drop(ff, training));
    }

    private NDArray drop(NDArray x, boolean training) {
        return training && dropout > 0 ? ai.djl.nn.norm.Dropout.dropout(x, dropout, true).singletonOrThrow() : x;
    }
}
