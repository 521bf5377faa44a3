package dev.steer.onnx;

import java.util.Arrays;

/**
 * A float32 tensor on the Java heap: a shape and its row-major values. The ONNX backend does all
 * of its arithmetic on these arrays (no NDArray math, which needs LibTorch), and converts to and
 * from ONNX Runtime tensors only at session boundaries.
 *
 * @param shape the dimensions
 * @param data the values, row-major; its length is the product of {@code shape}
 */
public record FloatTensor(long[] shape, float[] data) {

    /** Checks that the data fills the shape. */
    public FloatTensor {
        shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
    }

    /** A tensor of the given values and shape. */
    public static FloatTensor of(float[] data, long... shape) {
        return new FloatTensor(shape, data);
    }

    /** The shape (a copy). */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Dimension {@code i}; negative indices count from the end. */
    public int dim(int i) {
        return (int) shape[i < 0 ? shape.length + i : i];
    }

    /** The rank. */
    public int rank() {
        return shape.length;
    }

    /** Number of values. */
    public int size() {
        return data.length;
    }

    /** Item {@code index} of the first axis, as a tensor whose first dimension is 1. */
    public FloatTensor batchItem(int index) {
        int per = data.length / dim(0);
        long[] s = shape.clone();
        s[0] = 1;
        return new FloatTensor(s, Arrays.copyOfRange(data, index * per, (index + 1) * per));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FloatTensor t && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape);
    }
}
