package dev.steer.pytorch.t5;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.nn.Weight;

/** {@code torch.nn.Embedding}: rows of a table by integer index, differentiable with respect to the table. */
final class Embedding extends Module {
    private final Weight weight;

    Embedding(long rows, long dim) {
        this.weight = parameter("weight", rows, dim);
    }

    /** Rows for {@code ids} [...] -> [..., dim], in the ids' manager. */
    NDArray lookup(NDArray ids) {
        NDArray idx = ids.getDataType() == DataType.INT64 ? ids : ids.toType(DataType.INT64, false);
        return ai.djl.nn.core.Embedding.embedding(idx, value(weight), SparseFormat.DENSE).singletonOrThrow();
    }
}
