package dev.steer.core.internal.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A safetensors file larger than 2 GB (as the SD 1.5 UNet in float32 is, 3.4 GB): tensors past
 * the 2^31 byte mark read back through {@link SafetensorsFile#readFloats} and {@link SafetensorsFile#map}.
 * The file is sparse: two 1 GiB filler tensors are a hole that costs no disk.
 */
class LargeSafetensorsTest {
    private static final long GIB = 1L << 30;

    @TempDir
    Path tmp;

    @Test
    void tensorsBeyondTwoGigabytesReadBack() throws IOException {
        assumeTrue(Files.getFileStore(tmp).getUsableSpace() > 3 * GIB,
                "needs 3 GB free in " + tmp + " in case the file system does not support sparse files");
        float[] head = {1.5f, -2.25f, 3f, 0.125f};
        float[] tail = new float[1000];
        for (int i = 0; i < tail.length; i++) {
            tail[i] = i * 0.5f - 100f;
        }
        long fillerElements = GIB / 4; // one filler tensor is 1 GiB of float32
        long headBytes = head.length * 4L;
        long tailBegin = headBytes + 2 * GIB;
        long tailEnd = tailBegin + tail.length * 4L;
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"head\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0," + headBytes + "]},"
                + "\"filler.0\":{\"dtype\":\"F32\",\"shape\":[" + fillerElements + "],\"data_offsets\":[" + headBytes + ","
                + (headBytes + GIB) + "]},"
                + "\"filler.1\":{\"dtype\":\"F32\",\"shape\":[" + fillerElements + "],\"data_offsets\":[" + (headBytes + GIB) + ","
                + tailBegin + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[10,100],\"data_offsets\":[" + tailBegin + "," + tailEnd + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + h.length;
        Path file = tmp.resolve("large.safetensors");
        try {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    StandardOpenOption.SPARSE)) {
                ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, h.length));
                ch.write(ByteBuffer.wrap(h));
                ch.write(floats(head));
                ch.write(floats(tail), dataStart + tailBegin); // skips the fillers: a hole
            }
            assertEquals(dataStart + tailEnd, Files.size(file));
            assertTrue(Files.size(file) > (1L << 31) + 1000);

            try (SafetensorsFile st = SafetensorsFile.open(file)) {
                TensorInfo info = st.info("tail");
                assertTrue(info.dataOffset() > Integer.MAX_VALUE, "tail starts past 2 GB: " + info.dataOffset());
                assertArrayEquals(new long[] {10, 100}, info.shape());
                assertArrayEquals(tail, st.readFloats("tail"));
                ByteBuffer mapped = st.map("tail");
                assertEquals(tail.length * 4, mapped.capacity());
                assertEquals(ByteOrder.LITTLE_ENDIAN, mapped.order());
                assertEquals(tail[0], mapped.getFloat(0));
                assertEquals(tail[999], mapped.getFloat(999 * 4));
                assertArrayEquals(head, st.readFloats("head"));
                // a 1 GiB tensor maps without reading it; its last element lies in the hole
                ByteBuffer filler = st.map("filler.1");
                assertEquals(GIB, filler.capacity());
                assertEquals(0f, filler.getFloat((int) (GIB - 4)));
                assertEquals(fillerElements, st.info("filler.0").elementCount());
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static ByteBuffer floats(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.flip();
    }
}
