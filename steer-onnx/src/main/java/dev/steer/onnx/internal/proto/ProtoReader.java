package dev.steer.onnx.internal.proto;

import dev.steer.onnx.ProtoFormatException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A cursor over the fields of one protobuf message held in a region of a {@link ByteBuffer}
 * (protobuf wire format: varint, 64-bit, length-delimited and 32-bit fields). It only records where
 * each field lies, so a writer can copy fields it does not understand byte for byte, and it never
 * copies payloads unless asked ({@link #string()}, {@link #bytes()}). Positions are absolute buffer
 * indices; the buffer's own position and limit are not used or changed.
 *
 * <pre>{@code
 * ProtoReader r = new ProtoReader(buf, 0, buf.capacity());
 * while (r.next()) {
 *     if (r.number() == 7 && r.wireType() == ProtoReader.LEN) { ProtoReader graph = r.message(); ... }
 * }
 * }</pre>
 */
public final class ProtoReader {
    /** Wire type of varint fields (int32, int64, enums, bools). */
    public static final int VARINT = 0;
    /** Wire type of fixed 64-bit fields. */
    public static final int I64 = 1;
    /** Wire type of length-delimited fields (strings, bytes, messages, packed repeated fields). */
    public static final int LEN = 2;
    /** Wire type of fixed 32-bit fields. */
    public static final int I32 = 5;

    private final ByteBuffer buf;
    private final int end;
    private int pos;
    private int number;
    private int wireType;
    private int fieldStart;
    private int valueStart;
    private int valueEnd;
    private long varint;

    /** Reads the message in {@code [start, end)} of {@code buf}. */
    public ProtoReader(ByteBuffer buf, int start, int end) {
        if (start < 0 || end > buf.capacity() || start > end) {
            throw new IllegalArgumentException("region [" + start + ", " + end + ") outside buffer of " + buf.capacity());
        }
        this.buf = buf;
        this.pos = start;
        this.end = end;
    }

    /** The buffer read. */
    public ByteBuffer buffer() {
        return buf;
    }

    /**
     * Advances to the next field.
     *
     * @return false at the end of the message
     * @throws ProtoFormatException if the field is malformed or runs past the message
     */
    public boolean next() {
        if (pos >= end) {
            return false;
        }
        fieldStart = pos;
        long key = readVarint();
        number = (int) (key >>> 3);
        wireType = (int) (key & 7);
        if (number <= 0 || key >>> 3 > 0x1fffffffL) {
            throw new ProtoFormatException(fieldStart, "invalid field number " + (key >>> 3));
        }
        varint = 0;
        switch (wireType) {
            case VARINT -> {
                valueStart = pos;
                varint = readVarint();
                valueEnd = pos;
            }
            case I64 -> skipFixed(8);
            case I32 -> skipFixed(4);
            case LEN -> {
                long len = readVarint();
                if (len < 0 || len > end - pos) {
                    throw new ProtoFormatException(fieldStart, "field " + number + " length " + len + " runs past the end of the message ("
                            + (end - pos) + " bytes left)");
                }
                valueStart = pos;
                pos += (int) len;
                valueEnd = pos;
            }
            default -> throw new ProtoFormatException(fieldStart, "unsupported wire type " + wireType + " (field " + number + ")");
        }
        return true;
    }

    private void skipFixed(int n) {
        if (end - pos < n) {
            throw new ProtoFormatException(fieldStart, "truncated fixed-size field " + number);
        }
        valueStart = pos;
        pos += n;
        valueEnd = pos;
    }

    private long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw new ProtoFormatException(pos, "truncated varint");
            }
            byte b = buf.get(pos++);
            result |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw new ProtoFormatException(pos, "varint longer than 10 bytes");
    }

    /** The current field's number. */
    public int number() {
        return number;
    }

    /** The current field's wire type ({@link #VARINT}, {@link #I64}, {@link #LEN}, {@link #I32}). */
    public int wireType() {
        return wireType;
    }

    /** The current field's value as a varint (0 for other wire types). */
    public long varint() {
        return varint;
    }

    /** Where the current field (its key) starts. */
    public int fieldStart() {
        return fieldStart;
    }

    /** Where the current field ends (exclusive); {@code [fieldStart, fieldEnd)} is the whole field. */
    public int fieldEnd() {
        return valueEnd;
    }

    /** Where the current field's payload starts (after the length for {@link #LEN} fields). */
    public int valueStart() {
        return valueStart;
    }

    /** Where the current field's payload ends (exclusive). */
    public int valueEnd() {
        return valueEnd;
    }

    /** The payload length of the current field. */
    public int valueLength() {
        return valueEnd - valueStart;
    }

    /** The current length-delimited field decoded as UTF-8. */
    public String string() {
        return new String(bytes(), StandardCharsets.UTF_8);
    }

    /** A copy of the current field's payload. */
    public byte[] bytes() {
        byte[] out = new byte[valueEnd - valueStart];
        buf.get(valueStart, out);
        return out;
    }

    /** A reader over the current length-delimited field's payload (an embedded message). */
    public ProtoReader message() {
        requireLen();
        return new ProtoReader(buf, valueStart, valueEnd);
    }

    /**
     * The int64 values of a repeated integer field, whether this occurrence is packed (one
     * length-delimited run) or not (one varint); appended to {@code out}.
     */
    public void readInt64s(java.util.List<Long> out) {
        if (wireType == VARINT) {
            out.add(varint);
        } else if (wireType == LEN) {
            ProtoReader packed = new ProtoReader(buf, valueStart, valueEnd);
            while (packed.pos < packed.end) {
                out.add(packed.readVarint());
            }
        } else {
            throw new ProtoFormatException(fieldStart, "field " + number + " is not an integer field (wire type " + wireType + ")");
        }
    }

    private void requireLen() {
        if (wireType != LEN) {
            throw new ProtoFormatException(fieldStart, "field " + number + " is not length-delimited (wire type " + wireType + ")");
        }
    }
}
