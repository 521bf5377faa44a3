package dev.steer.pytorch.dataset;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Writes one shard of a relation dataset as safetensors (see {@code docs/relation-dataset.md}):
 * {@code maps} F32 [K, 2, N, 16, 16], {@code timestep} I64, {@code label} I64, {@code prompt_relation}
 * I64, {@code triplet} I64, {@code positive} U8 (data in that order, so that the I64 tensors stay 8-byte
 * aligned), streamed to a temporary name and then renamed.
 */
final class ShardWriter {
    /** One training sample. */
    record Sample(float[] maps, int timestep, int label, int promptRelation, boolean positive, long triplet) {
    }

    private ShardWriter() {
    }

    static void write(Path file, List<Sample> samples, int mapsPerWord, int mapSize) throws IOException {
        int k = samples.size();
        long mapValues = 2L * mapsPerWord * mapSize * mapSize;
        for (Sample s : samples) {
            if (s.maps().length != mapValues) {
                throw new IllegalStateException("a sample has " + s.maps().length + " map values, expected " + mapValues);
            }
        }
        JsonObject header = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("format", RelationDatasetBuilder.FORMAT);
        meta.addProperty("version", Integer.toString(RelationDatasetBuilder.VERSION));
        header.add("__metadata__", meta);
        long offset = 0;
        offset = entry(header, "maps", "F32", new long[] {k, 2, mapsPerWord, mapSize, mapSize}, offset, 4L * k * mapValues);
        offset = entry(header, "timestep", "I64", new long[] {k}, offset, 8L * k);
        offset = entry(header, "label", "I64", new long[] {k}, offset, 8L * k);
        offset = entry(header, "prompt_relation", "I64", new long[] {k}, offset, 8L * k);
        offset = entry(header, "triplet", "I64", new long[] {k}, offset, 8L * k);
        entry(header, "positive", "U8", new long[] {k}, offset, k); // last, so that every I64 tensor stays 8-byte aligned
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] head = new byte[8 + padded];
        ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(json, 0, head, 8, json.length);
        java.util.Arrays.fill(head, 8 + json.length, head.length, (byte) ' ');
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                out.write(head);
                ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (Sample s : samples) {
                    for (float v : s.maps()) {
                        if (buf.remaining() < 4) {
                            flush(buf, out);
                        }
                        buf.putFloat(v);
                    }
                }
                for (int field = 0; field < 3; field++) {
                    for (Sample s : samples) {
                        if (buf.remaining() < 8) {
                            flush(buf, out);
                        }
                        buf.putLong(field == 0 ? s.timestep() : field == 1 ? s.label() : s.promptRelation());
                    }
                }
                for (Sample s : samples) {
                    if (buf.remaining() < 8) {
                        flush(buf, out);
                    }
                    buf.putLong(s.triplet());
                }
                for (Sample s : samples) {
                    if (buf.remaining() < 1) {
                        flush(buf, out);
                    }
                    buf.put((byte) (s.positive() ? 1 : 0));
                }
                flush(buf, out);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static long entry(JsonObject header, String name, String dtype, long[] shape, long offset, long bytes) {
        JsonObject e = new JsonObject();
        e.addProperty("dtype", dtype);
        JsonArray s = new JsonArray();
        for (long d : shape) {
            s.add(d);
        }
        e.add("shape", s);
        JsonArray o = new JsonArray();
        o.add(offset);
        o.add(offset + bytes);
        e.add("data_offsets", o);
        header.add(name, e);
        return offset + bytes;
    }

    private static void flush(ByteBuffer buf, OutputStream out) throws IOException {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
    }
}
