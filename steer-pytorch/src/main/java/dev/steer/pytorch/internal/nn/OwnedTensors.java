package dev.steer.pytorch.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Constant tensors from Java data whose memory LibTorch owns, for constants that meet a tensor a
 * gradient flows through in a scope that may close before the backward pass (a hook's block scope).
 *
 * <p>Why: {@code NDManager.create(float[])} views a Java direct buffer ({@code from_blob}, no copy).
 * Autograd keeps such a tensor when the op needs it for the backward pass (the left factor of a
 * matrix product, the indices of a gather); once its scope has closed and the garbage collector has
 * freed the buffer, backward reads whatever now lies in that memory: NaN or wrong gradients,
 * intermittently. A LibTorch copy is kept alive by autograd's own reference. ({@link Scalars} does
 * the same for single numbers.)
 */
public final class OwnedTensors {
    private OwnedTensors() {
    }

    /** A float tensor of {@code shape} holding {@code values}, allocated by LibTorch. */
    public static NDArray of(NDManager manager, float[] values, Shape shape) {
        try (NDArray view = manager.create(values, shape)) {
            return view.duplicate();
        }
    }

    /** An int index tensor holding {@code positions}, allocated by LibTorch. */
    public static NDArray indices(NDManager manager, int[] positions) {
        try (NDArray view = manager.create(positions)) {
            return view.duplicate();
        }
    }
}
