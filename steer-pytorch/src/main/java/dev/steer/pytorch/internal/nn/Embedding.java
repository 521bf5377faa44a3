package dev.steer.pytorch.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.nn.Weight;

/**
 * {@code torch.nn.Embedding}: rows of a table by integer index, differentiable with respect to the
 * table. Rows come out in float32 whatever dtype the table is kept in: the text encoders and the
 * classifier's timestep tables compute in float32 (T5 overflows in float16).
 */
public final class Embedding extends Module {
    private final Weight weight;
    private final long rows;

    /** A table of {@code rows} vectors of width {@code dim}. */
    public Embedding(long rows, long dim) {
        this.rows = rows;
        this.weight = parameter("weight", rows, dim);
    }

    /** Number of rows (the vocabulary size of a token table). */
    public long rows() {
        return rows;
    }

    /** Rows for integer {@code ids} [...] -> [..., dim], in the ids' manager. */
    public NDArray lookup(NDArray ids) {
        NDArray idx = ids.getDataType() == DataType.INT64 ? ids : ids.toType(DataType.INT64, false);
        NDArray table = weight.valueAs(DataType.FLOAT32, ids.getManager());
        return ai.djl.nn.core.Embedding.embedding(idx, table, SparseFormat.DENSE).singletonOrThrow();
    }
}
