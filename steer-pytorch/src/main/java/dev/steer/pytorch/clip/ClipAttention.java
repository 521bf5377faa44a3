package dev.steer.pytorch.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.internal.nn.Scalars;

/**
 * transformers' {@code CLIPAttention}: multi-head self-attention with biased {@code q_proj},
 * {@code k_proj}, {@code v_proj}, {@code out_proj} and an additive attention mask.
 */
final class ClipAttention extends Module {
    private final Linear qProj;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear outProj;
    private final int heads;
    private final long headDim;
    private final float scale;

    ClipAttention(int hidden, int heads) {
        this.heads = heads;
        this.headDim = hidden / heads;
        this.scale = (float) Math.pow(headDim, -0.5);
        kProj = child("k_proj", new Linear(hidden, hidden, true));
        vProj = child("v_proj", new Linear(hidden, hidden, true));
        qProj = child("q_proj", new Linear(hidden, hidden, true));
        outProj = child("out_proj", new Linear(hidden, hidden, true));
    }

    /** {@code x} [B, T, D]; {@code mask} [T, T] added to the scores (0 or a large negative). */
    NDArray forward(NDArray x, NDArray mask) {
        NDArray q = splitHeads(qProj.forward(x));
        NDArray k = splitHeads(kProj.forward(x));
        NDArray v = splitHeads(vProj.forward(x));
        NDArray scores = Scalars.mul(q.matMul(k.transpose(0, 1, 3, 2)), scale).add(mask);
        NDArray out = scores.softmax(-1).matMul(v);
        Shape s = out.getShape();
        out = out.transpose(0, 2, 1, 3).reshape(s.get(0), s.get(2), heads * headDim);
        return outProj.forward(out);
    }

    private NDArray splitHeads(NDArray t) {
        Shape s = t.getShape();
        return t.reshape(s.get(0), s.get(1), heads, headDim).transpose(0, 2, 1, 3);
    }
}
