package dev.steer.pytorch.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Multiplication and division by a constant that autograd can differentiate safely; use these
 * instead of {@code NDArray.mul(Number)} / {@code div(Number)} anywhere a gradient may flow.
 *
 * <p>Why: DJL's {@code mul(Number)} wraps the number in a temporary tensor that views a Java direct
 * buffer (LibTorch's {@code from_blob}, no copy) and closes it right after the op. Autograd keeps
 * that tensor for the backward pass (the gradient of {@code x * c} is {@code grad * c}); once the
 * garbage collector has freed the buffer, backward multiplies by whatever now lies in that memory:
 * NaN or 1e29 gradients, intermittently, depending on when a collection ran. Here the constant is
 * made by LibTorch ({@code torch.full}), so autograd's reference keeps its memory alive.
 */
public final class Scalars {
    private Scalars() {
    }

    /** {@code x * c}, differentiable in {@code x}. */
    public static NDArray mul(NDArray x, float c) {
        try (NDArray constant = x.getManager().full(new Shape(), c, x.getDataType())) {
            return x.mul(constant);
        }
    }

    /** {@code x + c}, differentiable in {@code x}. */
    public static NDArray add(NDArray x, float c) {
        try (NDArray constant = x.getManager().full(new Shape(), c, x.getDataType())) {
            return x.add(constant);
        }
    }

    /** {@code x / c}, differentiable in {@code x}. */
    public static NDArray div(NDArray x, float c) {
        try (NDArray constant = x.getManager().full(new Shape(), c, x.getDataType())) {
            return x.div(constant);
        }
    }
}
