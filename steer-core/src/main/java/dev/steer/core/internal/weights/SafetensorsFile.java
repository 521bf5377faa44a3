package dev.steer.core.internal.weights;

import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import dev.steer.core.weights.WeightsFormatException;

/**
 * A read-only view of a <a href="https://github.com/huggingface/safetensors">safetensors</a> file.
 *
 * <p>The header is parsed with strict bounds (its length, every offset and every size are checked
 * against the file before anything is read), so a truncated or hostile file is refused with a
 * {@link WeightsFormatException} naming the file and the problem. The rules are the reference
 * implementation's ({@code huggingface/safetensors}, {@code Metadata::validate}): the header is
 * strict UTF-8 JSON, one object; {@code __metadata__}, if present, maps names to strings; every
 * other name is unique and maps to exactly {@code dtype} (an exact, upper-case name such as
 * {@code F32} or {@code BF16}), {@code shape} and {@code data_offsets}; each tensor's byte length
 * equals its element count times its dtype's size (computed without overflow); and, sorted by
 * offset, the tensors tile the data section from 0 to the end of the file with no gap, overlap or
 * trailing byte. Budgets: a header of at most {@link #MAX_HEADER_BYTES}, at most
 * {@link #MAX_TENSORS} tensors of rank at most {@link #MAX_RANK}; the memory a header takes is
 * therefore bounded by a small multiple of its size. Tensor data is never copied
 * through the Java heap unless asked for ({@link #readFloats}): {@link #map} memory-maps one tensor,
 * so files larger than 2 GB (the SD 1.5 UNet in float32 is 3.4 GB) are read tensor by tensor.
 */
public final class SafetensorsFile implements AutoCloseable {
    /**
     * Headers larger than this are refused. Real checkpoints have headers of a few hundred KB (the
     * FLUX transformer's is about 100 KB, a LoRA with training metadata a few MB); the reference
     * implementation's limit is 100 MB, which a streaming parse could hold but not in a small heap.
     */
    public static final long MAX_HEADER_BYTES = 16L << 20;

    /** Files listing more tensors than this are refused (the SD 1.5 UNet has 686, FLUX.1 about 1,700). */
    public static final int MAX_TENSORS = 1 << 16;

    /** Tensors of higher rank are refused (diffusion checkpoints go up to 5). */
    public static final int MAX_RANK = 8;

    private static final int MAX_JSON_NESTING = 8;

    private final Path path;
    private final FileChannel channel;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Opens and validates a safetensors file.
     *
     * @throws WeightsFormatException if the file is missing, unreadable or not a valid safetensors file
     */
    public static SafetensorsFile open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new WeightsFormatException(path, "file not found");
        } catch (IOException e) {
            throw new WeightsFormatException(path, "cannot open: " + e.getMessage(), e);
        }
        try {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw new WeightsFormatException(path, "file is " + fileSize + " bytes, too short for a safetensors header");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lenBuf, 0, path);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES) {
                throw new WeightsFormatException(path, "header length " + Long.toUnsignedString(headerLen)
                        + " is not in (0, " + MAX_HEADER_BYTES + "]: not a safetensors file or corrupt");
            }
            if (8 + headerLen > fileSize) {
                throw new WeightsFormatException(path, "header length " + headerLen + " runs beyond the end of the file ("
                        + fileSize + " bytes): truncated or corrupt");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(channel, headerBuf, 8, path);
            long dataStart = 8 + headerLen;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = parseHeader(path, headerBuf.array(), dataStart, fileSize - dataStart, metadata);
            return new SafetensorsFile(path, channel, tensors, Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            closeQuietly(channel);
            throw new WeightsFormatException(path, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path path, byte[] header, long dataStart, long dataSize,
            Map<String, String> metadataOut) {
        java.io.Reader text = new java.io.InputStreamReader(new java.io.ByteArrayInputStream(header),
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT));
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        boolean sawMetadata = false;
        try (JsonReader r = new JsonReader(text)) {
            r.setStrictness(Strictness.STRICT);
            r.setNestingLimit(MAX_JSON_NESTING);
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
                throw new WeightsFormatException(path, "header is not a JSON object");
            }
            r.beginObject();
            while (r.hasNext()) {
                String name = r.nextName();
                if ("__metadata__".equals(name)) {
                    if (sawMetadata) {
                        throw new WeightsFormatException(path, "header holds '__metadata__' twice");
                    }
                    sawMetadata = true;
                    readMetadata(path, r, metadataOut);
                    continue;
                }
                if (out.containsKey(name)) {
                    throw new WeightsFormatException(path, "tensor '" + brief(name) + "' is named twice in the header");
                }
                if (out.size() >= MAX_TENSORS) {
                    throw new WeightsFormatException(path, "header lists more than " + MAX_TENSORS + " tensors");
                }
                out.put(name, readEntry(path, r, name, dataStart, dataSize));
            }
            r.endObject();
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new WeightsFormatException(path, "header has content after its JSON object");
            }
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new WeightsFormatException(path, "header is not valid UTF-8", e);
        } catch (IOException | IllegalStateException | NumberFormatException | JsonParseException e) {
            throw new WeightsFormatException(path, "header is not valid JSON: " + brief(String.valueOf(e.getMessage())), e);
        }
        checkLayout(path, out, dataStart, dataSize);
        return Collections.unmodifiableMap(out);
    }

    /** {@code __metadata__}: an object of string values, as the reference implementation requires. */
    private static void readMetadata(Path path, JsonReader r, Map<String, String> metadataOut) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw new WeightsFormatException(path, "'__metadata__' is not an object of strings");
        }
        r.beginObject();
        while (r.hasNext()) {
            String key = r.nextName();
            if (r.peek() != JsonToken.STRING) {
                throw new WeightsFormatException(path, "'__metadata__' entry '" + brief(key) + "' is not a string");
            }
            if (metadataOut.put(key, r.nextString()) != null) {
                throw new WeightsFormatException(path, "'__metadata__' holds '" + brief(key) + "' twice");
            }
        }
        r.endObject();
    }

    private static TensorInfo readEntry(Path path, JsonReader r, String name, long dataStart, long dataSize) throws IOException {
        String what = "tensor '" + brief(name) + "'";
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw new WeightsFormatException(path, what + ": header entry is not an object");
        }
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        r.beginObject();
        while (r.hasNext()) {
            String field = r.nextName();
            switch (field) {
                case "dtype" -> {
                    if (dtypeName != null || r.peek() != JsonToken.STRING) {
                        throw new WeightsFormatException(path, what + ": 'dtype' is repeated or not a string");
                    }
                    dtypeName = r.nextString();
                }
                case "shape" -> {
                    if (shape != null) {
                        throw new WeightsFormatException(path, what + ": 'shape' is repeated");
                    }
                    shape = longArray(path, what, "shape", r, MAX_RANK);
                }
                case "data_offsets" -> {
                    if (offsets != null) {
                        throw new WeightsFormatException(path, what + ": 'data_offsets' is repeated");
                    }
                    offsets = longArray(path, what, "data_offsets", r, 2);
                }
                default -> throw new WeightsFormatException(path, what + ": unexpected field '" + brief(field) + "'");
            }
        }
        r.endObject();
        if (dtypeName == null || shape == null || offsets == null) {
            throw new WeightsFormatException(path, what + ": missing '" + (dtypeName == null ? "dtype" : shape == null ? "shape"
                    : "data_offsets") + "'");
        }
        TensorDType dtype = TensorDType.fromSafetensors(dtypeName);
        if (dtype == null) {
            throw new WeightsFormatException(path, what + ": unknown or unsupported dtype '" + brief(dtypeName) + "' (dtype names "
                    + "are exact and upper case; this reader supports " + java.util.Arrays.toString(TensorDType.values()) + ")");
        }
        if (offsets.length != 2) {
            throw new WeightsFormatException(path, what + ": data_offsets must hold two numbers");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin || end > dataSize) {
            throw new WeightsFormatException(path, what + ": data_offsets [" + begin + ", " + end
                    + "] lie outside the data section (" + dataSize + " bytes): truncated or corrupt");
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new WeightsFormatException(path, what + ": negative dimension in shape " + java.util.Arrays.toString(shape));
            }
            count = multiplyOrMinus(count, d);
        }
        long expected = count < 0 ? -1 : multiplyOrMinus(count, dtype.bytes());
        if (expected < 0) {
            throw new WeightsFormatException(path, what + ": shape " + java.util.Arrays.toString(shape) + " of " + dtype
                    + " overflows a 64-bit byte count");
        }
        if (end - begin != expected) {
            throw new WeightsFormatException(path, what + ": " + (end - begin) + " bytes of data but dtype "
                    + dtype + " and shape " + java.util.Arrays.toString(shape) + " need " + expected);
        }
        return new TensorInfo(name, dtype, shape, dataStart + begin, end - begin);
    }

    /** a * b for non-negative a and b, or -1 when it overflows a long. */
    private static long multiplyOrMinus(long a, long b) {
        if (a < 0 || b < 0) {
            return -1;
        }
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return hi != 0 || lo < 0 ? -1 : lo;
    }

    /**
     * The reference implementation's layout rules: sorted by offset, the tensors tile the data
     * section from 0 to its end, each starting where the previous one ends (no gap, no overlap, no
     * trailing bytes).
     */
    private static void checkLayout(Path path, Map<String, TensorInfo> tensors, long dataStart, long dataSize) {
        List<TensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.sort(java.util.Comparator.comparingLong(TensorInfo::dataOffset).thenComparingLong(TensorInfo::byteLength));
        long expected = 0;
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            long begin = t.dataOffset() - dataStart;
            if (begin != expected) {
                String where = previous == null ? "the data section starts at 0" : "tensor '" + brief(previous.name()) + "' ends at "
                        + expected;
                throw new WeightsFormatException(path, "tensor '" + brief(t.name()) + "' starts at data offset " + begin + " but "
                        + where + ": " + (begin < expected ? "overlapping tensors" : "a gap between tensors")
                        + " (the format requires them contiguous from 0, without overlap)");
            }
            expected = begin + t.byteLength();
            previous = t;
        }
        if (expected != dataSize) {
            throw new WeightsFormatException(path, "the tensors cover " + expected + " of the " + dataSize
                    + " bytes after the header: " + (dataSize - expected) + " trailing bytes (the format forbids them)");
        }
    }

    /** An untrusted string as it may appear in a message: at most 200 characters. */
    private static String brief(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "... (" + s.length() + " characters)";
    }

    private static long[] longArray(Path path, String what, String field, JsonReader r, int maxLen) throws IOException {
        if (r.peek() != JsonToken.BEGIN_ARRAY) {
            throw new WeightsFormatException(path, what + ": malformed '" + field + "' (not an array)");
        }
        long[] out = new long[maxLen];
        int n = 0;
        r.beginArray();
        while (r.hasNext()) {
            if (n == maxLen) {
                throw new WeightsFormatException(path, what + ": '" + field + "' has more than " + maxLen + " entries");
            }
            if (r.peek() != JsonToken.NUMBER) {
                throw new WeightsFormatException(path, what + ": '" + field + "' holds a non-number");
            }
            String v = r.nextString();
            try {
                if (v.length() > 32) {
                    throw new NumberFormatException();
                }
                out[n++] = new java.math.BigDecimal(v).longValueExact();
            } catch (ArithmeticException | NumberFormatException ex) {
                throw new WeightsFormatException(path, what + ": '" + field + "' holds " + brief(v) + ", not a 64-bit integer");
            }
        }
        r.endArray();
        return java.util.Arrays.copyOf(out, n);
    }

    /** The file this view reads. */
    public Path path() {
        return path;
    }

    /** Tensor entries in header order, by name. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** True when the file holds a tensor of that name. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The {@code __metadata__} entries of the header (may be empty). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The entry of a tensor. @throws WeightsFormatException if there is none */
    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new WeightsFormatException(path, "no tensor named '" + name + "'");
        }
        return info;
    }

    /**
     * Memory-maps one tensor's bytes (little-endian, read-only). The buffer stays valid after this
     * file is closed.
     */
    public ByteBuffer map(String name) {
        TensorInfo info = info(name);
        if (info.byteLength() > Integer.MAX_VALUE) {
            throw new WeightsFormatException(path, "tensor '" + name + "' is " + info.byteLength()
                    + " bytes; single tensors over 2 GB are not supported");
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, info.dataOffset(), info.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new WeightsFormatException(path, "cannot map tensor '" + name + "': " + e.getMessage(), e);
        }
    }

    /** Reads a floating point tensor as float32 values in row-major order (F64, F16 and BF16 are converted). */
    public float[] readFloats(String name) {
        TensorInfo info = info(name);
        if (info.elementCount() > Integer.MAX_VALUE - 8) {
            throw new WeightsFormatException(path, "tensor '" + name + "' is too large to read into a Java array");
        }
        ByteBuffer buf = map(name);
        int n = (int) info.elementCount();
        float[] out = new float[n];
        switch (info.dtype()) {
            case F32 -> buf.asFloatBuffer().get(out);
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) buf.getDouble(i * 8);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = HalfFloats.halfToFloat(buf.getShort(i * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((buf.getShort(i * 2) & 0xffff) << 16);
                }
            }
            default -> throw new WeightsFormatException(path, "tensor '" + name + "' has dtype " + info.dtype() + ", not a float type");
        }
        return out;
    }

    /** Reads an integer tensor (I64, I32, I16, I8, U8) as longs in row-major order. */
    public long[] readLongs(String name) {
        TensorInfo info = info(name);
        ByteBuffer buf = map(name);
        int n = Math.toIntExact(info.elementCount());
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (info.dtype()) {
                case I64 -> buf.getLong(i * 8);
                case I32 -> buf.getInt(i * 4);
                case I16 -> buf.getShort(i * 2);
                case I8 -> buf.get(i);
                case U8, BOOL -> buf.get(i) & 0xff;
                default -> throw new WeightsFormatException(path, "tensor '" + name + "' has dtype " + info.dtype()
                        + ", not an integer type");
            };
        }
        return out;
    }

    /** Names of tensors whose name starts with {@code prefix}, in header order. */
    public List<String> namesStartingWith(String prefix) {
        List<String> out = new ArrayList<>();
        for (String n : tensors.keySet()) {
            if (n.startsWith(prefix)) {
                out.add(n);
            }
        }
        return out;
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path path) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new WeightsFormatException(path, "unexpected end of file at byte " + pos);
            }
            pos += r;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing useful to do: the file was only read
        }
    }

    /** True when {@code path} looks like a safetensors file by name. */
    public static boolean isSafetensors(Path path) {
        return Files.isRegularFile(path) && path.getFileName().toString().endsWith(".safetensors");
    }
}
