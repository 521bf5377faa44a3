package dev.steer.onnx.internal.proto;

/** ONNX {@code TensorProto.DataType} codes used by the library, with readable names for messages. */
public final class OnnxElementType {
    private OnnxElementType() {
    }

    /** float32. */
    public static final int FLOAT = 1;
    /** uint8. */
    public static final int UINT8 = 2;
    /** int8. */
    public static final int INT8 = 3;
    /** int32. */
    public static final int INT32 = 6;
    /** int64. */
    public static final int INT64 = 7;
    /** bool. */
    public static final int BOOL = 9;
    /** float16. */
    public static final int FLOAT16 = 10;
    /** float64. */
    public static final int DOUBLE = 11;
    /** bfloat16. */
    public static final int BFLOAT16 = 16;

    /** A readable name for a type code. */
    public static String name(int code) {
        return switch (code) {
            case 0 -> "undefined";
            case FLOAT -> "float32";
            case UINT8 -> "uint8";
            case INT8 -> "int8";
            case 4 -> "uint16";
            case 5 -> "int16";
            case INT32 -> "int32";
            case INT64 -> "int64";
            case 8 -> "string";
            case BOOL -> "bool";
            case FLOAT16 -> "float16";
            case DOUBLE -> "float64";
            case 12 -> "uint32";
            case 13 -> "uint64";
            case BFLOAT16 -> "bfloat16";
            default -> "type " + code;
        };
    }
}
