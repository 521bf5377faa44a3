package dev.steer.onnx;

/** A protobuf message that is truncated or malformed (bad varint, length past the end, group wire types). */
public final class ProtoFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An error at byte {@code offset} of the buffer being read. */
    public ProtoFormatException(long offset, String message) {
        super("protobuf error at byte " + offset + ": " + message);
    }
}
