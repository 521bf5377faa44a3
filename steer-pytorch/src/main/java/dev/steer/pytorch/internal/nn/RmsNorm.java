package dev.steer.pytorch.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.nn.Weight;

/**
 * Root-mean-square norm over the last axis with a learned scale and no bias or mean subtraction:
 * diffusers' {@code RMSNorm} (FLUX's q/k norms) and transformers' {@code T5LayerNorm}. The statistic
 * is computed in float32 whatever the activation's dtype, as both references do.
 */
public final class RmsNorm extends Module {
    private final Weight weight;
    private final float eps;

    /** A norm over a last axis of size {@code dim}. */
    public RmsNorm(long dim, float eps) {
        this.weight = parameter("weight", dim);
        this.eps = eps;
    }

    /** x / sqrt(mean(x^2) + eps) * weight, in the activation's dtype. */
    public NDArray forward(NDArray x) {
        DataType type = x.getDataType();
        NDArray f = type == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
        NDArray variance = f.square().mean(new int[] {-1}, true);
        try (NDArray e = variance.getManager().full(new ai.djl.ndarray.types.Shape(), eps, DataType.FLOAT32)) {
            NDArray normed = f.div(variance.add(e).sqrt());
            if (type != DataType.FLOAT32) {
                normed = normed.toType(type, false);
            }
            NDArray w = value(weight, normed);
            NDArray out = normed.mul(w);
            release(weight, w);
            return out;
        }
    }
}
