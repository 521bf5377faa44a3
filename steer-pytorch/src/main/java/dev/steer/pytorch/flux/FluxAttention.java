package dev.steer.pytorch.flux;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.internal.nn.RmsNorm;
import dev.steer.pytorch.internal.nn.Scalars;
import java.util.function.Consumer;

/**
 * The attention of a FLUX block with diffusers' {@code FluxAttnProcessor2_0}: q, k, v with biases and
 * per-head RMS norms, rotary positions on the joint sequence, attention over all of it. In a
 * double-stream block the text stream has its own projections ({@code add_q_proj} ...,
 * {@code norm_added_q}/{@code k}) and output ({@code to_add_out}) and the joint sequence is [text;
 * image]; a single-stream block attends over the already joined sequence and has no output
 * projection ({@code pre_only}). Probabilities are computed explicitly (not fused) so that a probe
 * can read and differentiate them.
 */
final class FluxAttention extends Module {
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final RmsNorm normQ;
    private final RmsNorm normK;
    private final Linear addQ;
    private final Linear addK;
    private final Linear addV;
    private final RmsNorm normAddedQ;
    private final RmsNorm normAddedK;
    private final Linear toOut;
    private final Linear toAddOut;
    private final int heads;
    private final int headDim;
    private final float scale;

    /**
     * @param dual a double-stream block's attention (text projections and both outputs), else single-stream
     */
    FluxAttention(int dim, int heads, int headDim, boolean dual) {
        this.heads = heads;
        this.headDim = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        long inner = (long) heads * headDim;
        toQ = child("to_q", new Linear(dim, inner, true));
        toK = child("to_k", new Linear(dim, inner, true));
        toV = child("to_v", new Linear(dim, inner, true));
        normQ = child("norm_q", new RmsNorm(headDim, 1e-6f));
        normK = child("norm_k", new RmsNorm(headDim, 1e-6f));
        if (dual) {
            addQ = child("add_q_proj", new Linear(dim, inner, true));
            addK = child("add_k_proj", new Linear(dim, inner, true));
            addV = child("add_v_proj", new Linear(dim, inner, true));
            normAddedQ = child("norm_added_q", new RmsNorm(headDim, 1e-6f));
            normAddedK = child("norm_added_k", new RmsNorm(headDim, 1e-6f));
            toOut = child("to_out.0", new Linear(inner, dim, true));
            toAddOut = child("to_add_out", new Linear(inner, dim, true));
        } else {
            addQ = addK = addV = toOut = toAddOut = null;
            normAddedQ = normAddedK = null;
        }
    }

    int heads() {
        return heads;
    }

    /**
     * Double-stream attention.
     *
     * @return [image output [B, N, dim], text output [B, T, dim]]
     */
    NDList forwardDual(NDArray image, NDArray text, RotaryEmbedding rope, Consumer<NDArray> observer) {
        NDArray q = NDArrays.concat(new NDList(normAddedQ.forward(split(addQ.forward(text))), normQ.forward(split(toQ.forward(image)))), 2);
        NDArray k = NDArrays.concat(new NDList(normAddedK.forward(split(addK.forward(text))), normK.forward(split(toK.forward(image)))), 2);
        NDArray v = NDArrays.concat(new NDList(split(addV.forward(text)), split(toV.forward(image))), 2);
        NDArray joint = attend(q, k, v, rope, observer);
        long t = text.getShape().get(1);
        long l = joint.getShape().get(1);
        NDArray textOut = toAddOut.forward(joint.get(":, :{}, :", t));
        NDArray imageOut = toOut.forward(joint.get(":, {}:{}, :", t, l));
        return new NDList(imageOut, textOut);
    }

    /** Single-stream attention over the joint sequence [B, T + N, dim]. */
    NDArray forwardSingle(NDArray joint, RotaryEmbedding rope, Consumer<NDArray> observer) {
        NDArray q = normQ.forward(split(toQ.forward(joint)));
        NDArray k = normK.forward(split(toK.forward(joint)));
        NDArray v = split(toV.forward(joint));
        return attend(q, k, v, rope, observer);
    }

    private NDArray attend(NDArray q, NDArray k, NDArray v, RotaryEmbedding rope, Consumer<NDArray> observer) {
        q = rope.apply(q);
        k = rope.apply(k);
        // scaling q (L x d) rather than the scores (L x L) saves one score-sized tensor
        NDArray probs = Scalars.mul(q, scale).matMul(k.transpose(0, 1, 3, 2)).softmax(-1);
        if (observer != null) {
            observer.accept(probs);
        }
        NDArray out = probs.matMul(v);
        Shape s = out.getShape();
        return out.transpose(0, 2, 1, 3).reshape(s.get(0), s.get(2), (long) heads * headDim);
    }

    /** [B, L, heads * d] -> [B, heads, L, d]. */
    private NDArray split(NDArray t) {
        Shape s = t.getShape();
        return t.reshape(s.get(0), s.get(1), heads, headDim).transpose(0, 2, 1, 3);
    }
}
