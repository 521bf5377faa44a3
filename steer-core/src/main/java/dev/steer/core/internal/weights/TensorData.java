package dev.steer.core.internal.weights;

import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor read into the Java heap: from a {@link TorchCheckpoint}, or made to be written by
 * {@link SafetensorsWriter}.
 *
 * <p>The values are always the tensor's elements in row-major order of {@code shape} (gathered
 * through {@code strides} from {@code storageOffset} of the storage they were read from): floating
 * point tensors fill {@code floats} (float64, float16 and bfloat16 converted to float), integer and
 * bool tensors fill {@code longs}; the other one is null. {@code strides} and {@code storageOffset}
 * record how the tensor lay in its storage, for information.
 *
 * @param dtype the element type the tensor had
 * @param shape its shape (empty for a scalar)
 * @param strides its strides in its storage, in elements
 * @param storageOffset its first element's index in its storage
 * @param floats row-major values of a floating point tensor, else null
 * @param longs row-major values of an integer or bool tensor, else null
 */
public record TensorData(TensorDType dtype, long[] shape, long[] strides, long storageOffset, float[] floats, long[] longs) {

    /** Validates that exactly the right value array is present with one value per element. */
    public TensorData {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(strides, "strides");
        if (strides.length != shape.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " and strides " + Arrays.toString(strides)
                    + " differ in rank");
        }
        long n = count(shape);
        if (dtype.isFloating()) {
            if (floats == null || longs != null || floats.length != n) {
                throw new IllegalArgumentException("a " + dtype + " tensor of shape " + Arrays.toString(shape) + " needs " + n
                        + " float values");
            }
        } else if (longs == null || floats != null || longs.length != n) {
            throw new IllegalArgumentException("a " + dtype + " tensor of shape " + Arrays.toString(shape) + " needs " + n
                    + " long values");
        }
    }

    /** A contiguous float32 tensor. */
    public static TensorData ofFloats(long[] shape, float[] values) {
        return new TensorData(TensorDType.F32, shape.clone(), contiguousStrides(shape), 0, values, null);
    }

    /** A contiguous int64 tensor. */
    public static TensorData ofLongs(long[] shape, long[] values) {
        return new TensorData(TensorDType.I64, shape.clone(), contiguousStrides(shape), 0, null, values);
    }

    /** Row-major strides of a shape, in elements. */
    public static long[] contiguousStrides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Number of elements (1 for a scalar). */
    public long elementCount() {
        return count(shape);
    }

    /** True when the values are in {@link #floats}. */
    public boolean isFloating() {
        return dtype.isFloating();
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && dtype == t.dtype && Arrays.equals(shape, t.shape) && Arrays.equals(strides, t.strides)
                && storageOffset == t.storageOffset && Arrays.equals(floats, t.floats) && Arrays.equals(longs, t.longs);
    }

    @Override
    public int hashCode() {
        return Objects.hash(dtype, Arrays.hashCode(shape), Arrays.hashCode(floats), Arrays.hashCode(longs));
    }

    @Override
    public String toString() {
        return "TensorData[" + dtype + Arrays.toString(shape) + "]";
    }
}
