package dev.steer.pytorch.t5;

import dev.steer.pytorch.internal.nn.Embedding;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.model.T5Config;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;

/**
 * transformers' {@code T5Attention} as the encoder uses it: bias-free {@code q}, {@code k},
 * {@code v}, {@code o} projections of width {@code num_heads * d_kv}, scores {@code q kᵀ} with no
 * {@code 1/sqrt(d_kv)} scaling (T5 folds it into the initialisation) plus the position bias, softmax
 * in float32, no attention mask. Only the first block owns {@code relative_attention_bias}.
 */
final class T5Attention extends Module {
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear o;
    private final Embedding relativeAttentionBias;
    private final int heads;
    private final int dKv;
    private final int numBuckets;
    private final int maxDistance;

    T5Attention(T5Config c, boolean hasRelativeAttentionBias) {
        this.heads = c.numHeads();
        this.dKv = c.dKv();
        this.numBuckets = c.relativeAttentionNumBuckets();
        this.maxDistance = c.relativeAttentionMaxDistance();
        q = child("q", new Linear(c.dModel(), c.innerDim(), false));
        k = child("k", new Linear(c.dModel(), c.innerDim(), false));
        v = child("v", new Linear(c.dModel(), c.innerDim(), false));
        o = child("o", new Linear(c.innerDim(), c.dModel(), false));
        relativeAttentionBias = hasRelativeAttentionBias
                ? child("relative_attention_bias", new Embedding(numBuckets, heads))
                : null;
    }

    /** [1, heads, q, k] bias from the bucket table, in {@code manager}; only for the block that owns it. */
    NDArray positionBias(NDManager manager, int queryLength, int keyLength) {
        long[] buckets = T5EncoderModel.relativePositionBuckets(queryLength, keyLength, true, numBuckets, maxDistance);
        NDArray ids = manager.create(buckets, new Shape(queryLength, keyLength));
        return relativeAttentionBias.lookup(ids).transpose(2, 0, 1).expandDims(0);
    }

    /** {@code x} [B, T, d_model]; {@code positionBias} [1, heads, T, T]. */
    NDArray forward(NDArray x, NDArray positionBias) {
        NDArray qh = splitHeads(q.forward(x));
        NDArray kh = splitHeads(k.forward(x));
        NDArray vh = splitHeads(v.forward(x));
        NDArray scores = qh.matMul(kh.transpose(0, 1, 3, 2)).add(positionBias);
        DataType type = scores.getDataType();
        NDArray weights = (type == DataType.FLOAT32 ? scores : scores.toType(DataType.FLOAT32, false)).softmax(-1);
        if (type != DataType.FLOAT32) {
            weights = weights.toType(type, false);
        }
        NDArray out = weights.matMul(vh);
        Shape s = out.getShape();
        out = out.transpose(0, 2, 1, 3).reshape(s.get(0), s.get(2), (long) heads * dKv);
        return o.forward(out);
    }

    private NDArray splitHeads(NDArray t) {
        Shape s = t.getShape();
        return t.reshape(s.get(0), s.get(1), heads, dKv).transpose(0, 2, 1, 3);
    }
}
