package dev.steer.onnx.internal.proto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds small protobuf messages in memory (keys, varints, length-delimited fields, raw copies of
 * fields read with {@link ProtoReader}). Large payloads are not meant to pass through it: the
 * model rewriter streams them straight from the source buffer.
 */
public final class ProtoWriter {
    private byte[] data = new byte[64];
    private int size;

    /** An empty message. */
    public ProtoWriter() {
    }

    /** Number of bytes written. */
    public int size() {
        return size;
    }

    /** A copy of the bytes written. */
    public byte[] toByteArray() {
        return Arrays.copyOf(data, size);
    }

    private void ensure(int extra) {
        if (size + extra > data.length) {
            long want = Math.max((long) data.length * 2, (long) size + extra);
            if (want > Integer.MAX_VALUE - 8) {
                throw new IllegalStateException("message too large for an in-memory writer");
            }
            data = Arrays.copyOf(data, (int) want);
        }
    }

    /** Writes a raw varint. */
    public ProtoWriter varint(long value) {
        ensure(10);
        while ((value & ~0x7fL) != 0) {
            data[size++] = (byte) ((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        data[size++] = (byte) value;
        return this;
    }

    /** Writes a field key. */
    public ProtoWriter key(int number, int wireType) {
        return varint(((long) number << 3) | wireType);
    }

    /** Writes a varint field. */
    public ProtoWriter varintField(int number, long value) {
        return key(number, ProtoReader.VARINT).varint(value);
    }

    /** Writes a string field (UTF-8). */
    public ProtoWriter stringField(int number, String value) {
        return bytesField(number, value.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes a bytes field. */
    public ProtoWriter bytesField(int number, byte[] value) {
        key(number, ProtoReader.LEN).varint(value.length);
        return raw(value);
    }

    /** Writes an embedded message field. */
    public ProtoWriter messageField(int number, ProtoWriter message) {
        key(number, ProtoReader.LEN).varint(message.size);
        ensure(message.size);
        System.arraycopy(message.data, 0, data, size, message.size);
        size += message.size;
        return this;
    }

    /** Appends bytes as they are. */
    public ProtoWriter raw(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, data, size, bytes.length);
        size += bytes.length;
        return this;
    }

    /** Appends {@code [from, to)} of {@code src} as it is (e.g. a whole field located by a {@link ProtoReader}). */
    public ProtoWriter raw(ByteBuffer src, int from, int to) {
        int n = to - from;
        ensure(n);
        src.get(from, data, size, n);
        size += n;
        return this;
    }

    /** Appends the current field of {@code reader} (key and payload) unchanged. */
    public ProtoWriter copyField(ProtoReader reader) {
        return raw(reader.buffer(), reader.fieldStart(), reader.fieldEnd());
    }

    /** The number of bytes {@code value} takes as a varint. */
    public static int varintSize(long value) {
        int n = 1;
        while ((value & ~0x7fL) != 0) {
            n++;
            value >>>= 7;
        }
        return n;
    }
}
