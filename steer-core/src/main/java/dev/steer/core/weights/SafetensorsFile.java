package dev.steer.core.weights;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
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

/**
 * A read-only view of a <a href="https://github.com/huggingface/safetensors">safetensors</a> file.
 *
 * <p>The header is parsed with strict bounds (its length, every offset and every size are checked
 * against the file before anything is read), so a truncated or hostile file is refused with a
 * {@link WeightsFormatException} naming the file and the problem. Tensor data is never copied
 * through the Java heap unless asked for ({@link #readFloats}): {@link #map} memory-maps one tensor,
 * so files larger than 2 GB (the SD 1.5 UNet in float32 is 3.4 GB) are read tensor by tensor.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers larger than this are refused; real checkpoints have headers of a few hundred KB. */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    private static final int MAX_RANK = 8;

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
            String json = new String(headerBuf.array(), StandardCharsets.UTF_8);
            long dataStart = 8 + headerLen;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = parseHeader(path, json, dataStart, fileSize - dataStart, metadata);
            return new SafetensorsFile(path, channel, tensors, Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            closeQuietly(channel);
            throw new WeightsFormatException(path, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path path, String json, long dataStart, long dataSize,
            Map<String, String> metadataOut) {
        JsonObject root;
        try {
            JsonElement parsed = JsonParser.parseString(json);
            if (!parsed.isJsonObject()) {
                throw new WeightsFormatException(path, "header is not a JSON object");
            }
            root = parsed.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new WeightsFormatException(path, "header is not valid JSON: " + e.getMessage(), e);
        }
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : root.entrySet()) {
            String name = e.getKey();
            if ("__metadata__".equals(name)) {
                if (e.getValue().isJsonObject()) {
                    for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
                        metadataOut.put(m.getKey(), m.getValue().isJsonPrimitive() ? m.getValue().getAsString() : m.getValue().toString());
                    }
                }
                continue;
            }
            if (!e.getValue().isJsonObject()) {
                throw new WeightsFormatException(path, "tensor '" + name + "': header entry is not an object");
            }
            JsonObject t = e.getValue().getAsJsonObject();
            String dtypeName = t.has("dtype") && t.get("dtype").isJsonPrimitive() ? t.get("dtype").getAsString() : null;
            TensorDType dtype = TensorDType.fromSafetensors(dtypeName);
            if (dtype == null) {
                throw new WeightsFormatException(path, "tensor '" + name + "': unknown or unsupported dtype '" + dtypeName + "'");
            }
            long[] shape = longArray(path, name, "shape", t.get("shape"), MAX_RANK);
            long[] offsets = longArray(path, name, "data_offsets", t.get("data_offsets"), 2);
            if (offsets.length != 2) {
                throw new WeightsFormatException(path, "tensor '" + name + "': data_offsets must hold two numbers");
            }
            long begin = offsets[0];
            long end = offsets[1];
            if (begin < 0 || end < begin || end > dataSize) {
                throw new WeightsFormatException(path, "tensor '" + name + "': data_offsets [" + begin + ", " + end
                        + "] lie outside the data section (" + dataSize + " bytes): truncated or corrupt");
            }
            long count = 1;
            for (long d : shape) {
                if (d < 0) {
                    throw new WeightsFormatException(path, "tensor '" + name + "': negative dimension in shape");
                }
                count = Math.multiplyExact(count, d);
            }
            long expected = Math.multiplyExact(count, dtype.bytes());
            if (end - begin != expected) {
                throw new WeightsFormatException(path, "tensor '" + name + "': " + (end - begin) + " bytes of data but dtype "
                        + dtype + " and shape " + java.util.Arrays.toString(shape) + " need " + expected);
            }
            out.put(name, new TensorInfo(name, dtype, shape, dataStart + begin, end - begin));
        }
        return Collections.unmodifiableMap(out);
    }

    private static long[] longArray(Path path, String tensor, String field, JsonElement el, int maxLen) {
        if (el == null || !el.isJsonArray()) {
            throw new WeightsFormatException(path, "tensor '" + tensor + "': missing or malformed '" + field + "'");
        }
        JsonArray arr = el.getAsJsonArray();
        if (arr.size() > maxLen) {
            throw new WeightsFormatException(path, "tensor '" + tensor + "': '" + field + "' has " + arr.size()
                    + " entries, at most " + maxLen + " expected");
        }
        long[] out = new long[arr.size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement v = arr.get(i);
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
                throw new WeightsFormatException(path, "tensor '" + tensor + "': '" + field + "' holds a non-number");
            }
            try {
                out[i] = new java.math.BigDecimal(v.getAsString()).longValueExact();
            } catch (ArithmeticException | NumberFormatException ex) {
                throw new WeightsFormatException(path, "tensor '" + tensor + "': '" + field + "' holds " + v.getAsString()
                        + ", not a 64-bit integer");
            }
        }
        return out;
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
