package dev.steer.pytorch.relation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.internal.nn.Scalars;
import dev.steer.pytorch.nn.Weight;

/**
 * {@code torch.nn.MultiheadAttention} with {@code batch_first=True}: {@code in_proj_weight}
 * [3d, d] and {@code in_proj_bias} [3d] pack the query, key and value projections (in that order),
 * {@code out_proj} maps the concatenated heads back. Queries are scaled by 1/sqrt(head_dim); the
 * attention probabilities get dropout in training, as torch does.
 */
final class MultiheadAttention extends Module {
    private final Weight inProjWeight;
    private final Weight inProjBias;
    private final Linear outProj;
    private final long dim;
    private final int heads;
    private final long headDim;
    private final float dropout;

    MultiheadAttention(long dim, int heads, double dropout) {
        this.inProjWeight = parameter("in_proj_weight", 3 * dim, dim);
        this.inProjBias = parameter("in_proj_bias", 3 * dim);
        this.outProj = child("out_proj", new Linear(dim, dim, true));
        this.dim = dim;
        this.heads = heads;
        this.headDim = dim / heads;
        this.dropout = (float) dropout;
    }

    /** Self-attention of {@code x} [B, L, d]: one packed projection, split afterwards. */
    NDArray selfAttention(NDArray x, boolean training) {
        NDArray qkv = ai.djl.nn.core.Linear.linear(x, value(inProjWeight, x), value(inProjBias, x)).singletonOrThrow();
        NDArray q = qkv.get(":, :, 0:" + dim);
        NDArray k = qkv.get(":, :, " + dim + ":" + 2 * dim);
        NDArray v = qkv.get(":, :, " + 2 * dim + ":");
        return attend(q, k, v, training);
    }

    /** Attention of {@code query} [B, Lq, d] over {@code keyValue} [B, Lk, d]. */
    NDArray forward(NDArray query, NDArray keyValue, boolean training) {
        NDArray w = value(inProjWeight, query);
        NDArray b = value(inProjBias, query);
        NDArray wq = inScopeOf(query, w.get("0:" + dim));
        NDArray bq = inScopeOf(query, b.get("0:" + dim));
        NDArray wkv = inScopeOf(keyValue, w.get(dim + ":"));
        NDArray bkv = inScopeOf(keyValue, b.get(dim + ":"));
        NDArray q = ai.djl.nn.core.Linear.linear(query, wq, bq).singletonOrThrow();
        NDArray kv = ai.djl.nn.core.Linear.linear(keyValue, wkv, bkv).singletonOrThrow();
        return attend(q, kv.get(":, :, 0:" + dim), kv.get(":, :, " + dim + ":"), training);
    }

    private NDArray attend(NDArray q, NDArray k, NDArray v, boolean training) {
        Shape qs = q.getShape();
        long batch = qs.get(0);
        long lq = qs.get(1);
        NDArray qh = Scalars.mul(split(q), (float) (1.0 / Math.sqrt(headDim)));
        NDArray probs = qh.matMul(split(k).transpose(0, 1, 3, 2)).softmax(-1);
        if (training && dropout > 0) {
            probs = ai.djl.nn.norm.Dropout.dropout(probs, dropout, true).singletonOrThrow();
        }
        NDArray out = probs.matMul(split(v)).transpose(0, 2, 1, 3).reshape(batch, lq, dim);
        return outProj.forward(out);
    }

    private NDArray split(NDArray t) {
        Shape s = t.getShape();
        return t.reshape(s.get(0), s.get(1), heads, headDim).transpose(0, 2, 1, 3);
    }
}
