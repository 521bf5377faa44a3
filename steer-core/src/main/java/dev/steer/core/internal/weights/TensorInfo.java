package dev.steer.core.internal.weights;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header.
 *
 * @param name the tensor's key, e.g. {@code down_blocks.0.resnets.0.conv1.weight}
 * @param dtype its element type
 * @param shape its shape (empty for a scalar)
 * @param dataOffset offset of its first byte from the start of the file
 * @param byteLength number of bytes it occupies
 */
public record TensorInfo(String name, TensorDType dtype, long[] shape, long dataOffset, long byteLength) {

    /** Number of elements (1 for a scalar). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** The shape as an int array, for APIs that want one. */
    public int[] intShape() {
        return Arrays.stream(shape).mapToInt(Math::toIntExact).toArray();
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t
                && name.equals(t.name)
                && dtype == t.dtype
                && Arrays.equals(shape, t.shape)
                && dataOffset == t.dataOffset
                && byteLength == t.byteLength;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
