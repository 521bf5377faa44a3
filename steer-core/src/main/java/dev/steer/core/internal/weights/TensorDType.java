package dev.steer.core.internal.weights;

/** The element types a safetensors file may hold that this library reads. */
public enum TensorDType {
    /** 64-bit IEEE 754 floating point. */
    F64(8),
    /** 32-bit IEEE 754 floating point. */
    F32(4),
    /** 16-bit IEEE 754 floating point (half precision). */
    F16(2),
    /** bfloat16: the upper 16 bits of a 32-bit float. */
    BF16(2),
    /** 64-bit signed integer. */
    I64(8),
    /** 32-bit signed integer. */
    I32(4),
    /** 16-bit signed integer. */
    I16(2),
    /** 8-bit signed integer. */
    I8(1),
    /** 8-bit unsigned integer. */
    U8(1),
    /** Boolean, one byte per element. */
    BOOL(1);

    private final int bytes;

    TensorDType(int bytes) {
        this.bytes = bytes;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** True for the floating point types. */
    public boolean isFloating() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /**
     * Parses the dtype string of a safetensors header, exactly as the format spells it ({@code F32},
     * not {@code f32}); returns null when it is not one of these.
     */
    public static TensorDType fromSafetensors(String name) {
        if (name == null) {
            return null;
        }
        for (TensorDType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
