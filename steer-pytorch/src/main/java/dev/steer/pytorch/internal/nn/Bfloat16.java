package dev.steer.pytorch.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * bfloat16 without a bfloat16 dtype: DJL 0.36's LibTorch bridge cannot create or cast to bfloat16
 * (the JVM aborts), so bfloat16 tensors are held as their raw bytes and widened in LibTorch memory.
 * A bfloat16 is the upper half of a float32, so the bytes {@code [0, 0, lo, hi]} of each element are
 * its float32 value (little-endian host).
 */
public final class Bfloat16 {
    private Bfloat16() {
    }

    /**
     * Widens raw bits [n, 2] (uint8) to float32 of {@code shape} on the bits' device, owned by
     * {@code manager}.
     */
    public static NDArray widen(NDArray bits, Shape shape, NDManager manager) {
        long n = shape.size();
        try (NDManager tmp = manager.newSubManager(bits.getDevice())) {
            NDArray widened = tmp.zeros(new Shape(n, 2), DataType.UINT8).concat(bits, 1); // [n, 4], LibTorch-owned
            NDArray aliased = tmp.create(widened.toByteBuffer(true), shape, DataType.FLOAT32); // aliases widened
            NDArray owned = aliased.duplicate();
            owned.attach(manager);
            return owned;
        }
    }
}
