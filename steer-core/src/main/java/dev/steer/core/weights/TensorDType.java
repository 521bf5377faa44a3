package dev.steer.core.weights;

/** The element types a safetensors file may hold that this library reads. */
public enum TensorDType {
    F64(8),
    F32(4),
    F16(2),
    BF16(2),
    I64(8),
    I32(4),
    I16(2),
    I8(1),
    U8(1),
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
