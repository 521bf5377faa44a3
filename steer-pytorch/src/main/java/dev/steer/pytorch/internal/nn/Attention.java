package dev.steer.pytorch.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.steer.pytorch.nn.Module;

/**
 * diffusers' {@code Attention} (default processor): multi-head scaled dot-product attention with
 * {@code to_q}, {@code to_k}, {@code to_v} (no bias) and {@code to_out.0}. The probabilities are
 * computed explicitly (not fused) so that cross-attention maps can be observed and differentiated.
 */
public final class Attention extends Module {
    private final Linear toQ;
    private final Linear toK;
    private final Linear toV;
    private final Linear toOut;
    private final int heads;
    private final long headDim;
    private final float scale;

    /**
     * @param queryDim width of the queries (and the output)
     * @param contextDim width of the keys and values (queryDim for self-attention)
     * @param heads number of heads
     * @param headDim width of one head
     */
    public Attention(long queryDim, long contextDim, int heads, long headDim) {
        this(queryDim, contextDim, heads, headDim, false);
    }

    /** As above; {@code qkvBias} gives the q/k/v projections biases (the VAE's attention has them). */
    public Attention(long queryDim, long contextDim, int heads, long headDim, boolean qkvBias) {
        long inner = heads * headDim;
        this.toQ = child("to_q", new Linear(queryDim, inner, qkvBias));
        this.toK = child("to_k", new Linear(contextDim, inner, qkvBias));
        this.toV = child("to_v", new Linear(contextDim, inner, qkvBias));
        this.toOut = child("to_out.0", new Linear(inner, queryDim, true));
        this.heads = heads;
        this.headDim = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    /** Number of heads. */
    public int heads() {
        return heads;
    }

    /**
     * Attends from {@code x} [B, N, C] to {@code context} [B, T, D] (or to itself when null).
     *
     * @param observer receives the probabilities [B, heads, N, T] before they are applied; may be null
     */
    public NDArray forward(NDArray x, NDArray context, java.util.function.Consumer<NDArray> observer) {
        NDArray ctx = context == null ? x : context;
        // scaling q (N x d) rather than the scores (N x T) saves one score-sized tensor per call
        NDArray q = splitHeads(Scalars.mul(toQ.forward(x), scale));
        NDArray k = splitHeads(toK.forward(ctx));
        NDArray v = splitHeads(toV.forward(ctx));
        NDArray probs = q.matMul(k.transpose(0, 1, 3, 2)).softmax(-1);
        if (observer != null) {
            observer.accept(probs);
        }
        NDArray out = probs.matMul(v);
        Shape s = out.getShape();
        out = out.transpose(0, 2, 1, 3).reshape(s.get(0), s.get(2), heads * headDim);
        return toOut.forward(out);
    }

    private NDArray splitHeads(NDArray t) {
        Shape s = t.getShape();
        return t.reshape(s.get(0), s.get(1), heads, headDim).transpose(0, 2, 1, 3);
    }
}
