package dev.steer.pytorch.clip;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.nn.Weight;

/** {@code torch.nn.Embedding}: a lookup table of rows, differentiable with respect to the table. */
final class EmbeddingTable extends Module {
    private final Weight weight;
    private final long rows;

    EmbeddingTable(long rows, long dim) {
        this.rows = rows;
        this.weight = parameter("weight", rows, dim);
    }

    long rows() {
        return rows;
    }

    /** Rows for integer {@code ids} [...] -> [..., dim], in the ids' manager. */
    NDArray lookup(NDArray ids) {
        NDArray idx = ids.getDataType() == DataType.INT64 ? ids : ids.toType(DataType.INT64, false);
        return ai.djl.nn.core.Embedding.embedding(idx, value(weight), SparseFormat.DENSE).singletonOrThrow();
    }
}
