package dev.steer.pytorch.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.nn.Weight;

/**
 * {@code torch.nn.GroupNorm} with affine parameters, NCHW layout. Composed from primitive ops
 * (DJL has no group norm operator), so it is differentiable like the rest.
 */
public final class GroupNorm extends Module {
    private final Weight weight;
    private final Weight bias;
    private final int groups;
    private final float eps;

    /** A group norm over {@code channels} split in {@code groups}. */
    public GroupNorm(int groups, long channels, float eps) {
        if (channels % groups != 0) {
            throw new IllegalArgumentException(channels + " channels cannot be split in " + groups + " groups");
        }
        this.groups = groups;
        this.eps = eps;
        this.weight = parameter("weight", channels);
        this.bias = parameter("bias", channels);
    }

    /** Normalises {@code x} [N, C, ...]. */
    public NDArray forward(NDArray x) {
        Shape shape = x.getShape();
        long n = shape.get(0);
        long c = shape.get(1);
        NDArray grouped = x.reshape(n, groups, -1);
        NDArray mean = grouped.mean(new int[] {2}, true);
        NDArray centered = grouped.sub(mean);
        NDArray var = centered.square().mean(new int[] {2}, true);
        NDArray normed = centered.div(var.add(eps).sqrt()).reshape(shape);
        long[] bshape = new long[shape.dimension()];
        java.util.Arrays.fill(bshape, 1);
        bshape[1] = c;
        Shape affine = new Shape(bshape);
        return normed.mul(inScopeOf(x, value(weight, x).reshape(affine))).add(inScopeOf(x, value(bias, x).reshape(affine)));
    }
}
