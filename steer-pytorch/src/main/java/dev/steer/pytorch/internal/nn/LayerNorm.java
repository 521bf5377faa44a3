package dev.steer.pytorch.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.nn.Weight;

/** {@code torch.nn.LayerNorm} over the last axis, with affine parameters. */
public final class LayerNorm extends Module {
    private final Weight weight;
    private final Weight bias;
    private final Shape normalized;
    private final float eps;

    /** A layer norm over a last axis of size {@code dim}. */
    public LayerNorm(long dim, float eps) {
        this.weight = parameter("weight", dim);
        this.bias = parameter("bias", dim);
        this.normalized = new Shape(dim);
        this.eps = eps;
    }

    /** Normalises the last axis of {@code x}. */
    public NDArray forward(NDArray x) {
        NDArray w = value(weight, x);
        NDArray b = value(bias, x);
        NDArray out = ai.djl.nn.norm.LayerNorm.layerNorm(x, normalized, w, b, eps).singletonOrThrow();
        release(weight, w);
        release(bias, b);
        return out;
    }

    /**
     * A layer norm without affine parameters ({@code elementwise_affine=False}, as FLUX's adaptive
     * norms use) over the last axis.
     */
    public static NDArray withoutAffine(NDArray x, float eps) {
        long dim = x.getShape().get(x.getShape().dimension() - 1);
        NDManager m = x.getManager();
        try (NDArray ones = m.ones(new Shape(dim), x.getDataType()); NDArray zeros = m.zeros(new Shape(dim), x.getDataType())) {
            return ai.djl.nn.norm.LayerNorm.layerNorm(x, new Shape(dim), ones, zeros, eps).singletonOrThrow();
        }
    }
}
