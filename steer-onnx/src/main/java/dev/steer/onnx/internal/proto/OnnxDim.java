package dev.steer.onnx.internal.proto;

/**
 * One dimension of a declared tensor shape: a fixed size, a named symbolic size, or unknown.
 *
 * @param value the size, or -1 when not fixed
 * @param param the symbolic name (e.g. "batch"), or null
 */
public record OnnxDim(long value, String param) {

    /** A fixed dimension. */
    public static OnnxDim fixed(long value) {
        return new OnnxDim(value, null);
    }

    /** A named symbolic dimension. */
    public static OnnxDim symbolic(String name) {
        return new OnnxDim(-1, name);
    }

    /** Whether the size is fixed. */
    public boolean isFixed() {
        return value >= 0;
    }

    @Override
    public String toString() {
        return isFixed() ? Long.toString(value) : param == null ? "?" : param;
    }
}
