package dev.steer.core.internal.weights;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import dev.steer.core.weights.WeightsFormatException;

/**
 * Writes a safetensors file: a little-endian u64 header length, a JSON header (per tensor
 * {@code dtype}, {@code shape}, {@code data_offsets}; optional {@code __metadata__} of strings),
 * padded with spaces to a multiple of 8 bytes, then the tensors' bytes in header order. Float
 * tensors are written as F32 (or F16 when their dtype says so, rounded to nearest even), integer
 * tensors as I64. The file is written next to its destination
 * and moved into place, so a failed write never leaves a partial file under the final name.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {
    }

    /**
     * Writes {@code tensors} (in iteration order) to {@code file}.
     *
     * @param metadata optional {@code __metadata__} entries; may be null or empty
     * @throws WeightsFormatException naming the file when it cannot be written
     */
    public static void write(Path file, Map<String, TensorData> tensors, Map<String, String> metadata) {
        JsonObject header = new JsonObject();
        if (metadata != null && !metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        long offset = 0;
        for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
            TensorData t = e.getValue();
            long bytes = t.elementCount() * elementBytes(t);
            JsonObject entry = new JsonObject();
            entry.addProperty("dtype", t.dtype() == TensorDType.F16 ? "F16" : t.isFloating() ? "F32" : "I64");
            JsonArray shape = new JsonArray();
            for (long d : t.shape()) {
                shape.add(d);
            }
            entry.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + bytes);
            entry.add("data_offsets", offsets);
            header.add(e.getKey(), entry);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] head = new byte[8 + padded];
        ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(json, 0, head, 8, json.length);
        java.util.Arrays.fill(head, 8 + json.length, head.length, (byte) ' ');
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                out.write(head);
                ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (TensorData t : tensors.values()) {
                    if (t.dtype() == TensorDType.F16) {
                        for (float v : t.floats()) {
                            if (chunk.remaining() < 2) {
                                flush(chunk, out);
                            }
                            chunk.putShort(HalfFloats.floatToHalf(v));
                        }
                    } else if (t.isFloating()) {
                        for (float v : t.floats()) {
                            if (chunk.remaining() < 4) {
                                flush(chunk, out);
                            }
                            chunk.putFloat(v);
                        }
                    } else {
                        for (long v : t.longs()) {
                            if (chunk.remaining() < 8) {
                                flush(chunk, out);
                            }
                            chunk.putLong(v);
                        }
                    }
                }
                flush(chunk, out);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the original error matters more
            }
            throw new WeightsFormatException(file, "cannot write: " + e.getMessage(), e);
        }
    }

    private static long elementBytes(TensorData t) {
        return t.dtype() == TensorDType.F16 ? 2L : t.isFloating() ? 4L : 8L;
    }

    private static void flush(ByteBuffer chunk, OutputStream out) throws IOException {
        out.write(chunk.array(), 0, chunk.position());
        chunk.clear();
    }
}
