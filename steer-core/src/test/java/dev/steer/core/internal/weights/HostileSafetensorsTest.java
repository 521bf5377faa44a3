package dev.steer.core.internal.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeout;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.steer.core.weights.WeightsFormatException;

/**
 * Safetensors files that break the format's rules the way a fuzzer or a hostile author would:
 * each is refused with a {@link WeightsFormatException} naming the problem, within a second (this
 * class also runs in a 256 MB heap, see the module's pom).
 */
class HostileSafetensorsTest {
    @TempDir
    Path tmp;

    private Path write(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h).put(data);
        Path p = tmp.resolve(name);
        Files.write(p, buf.array());
        return p;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    private static String refusal(Path p) {
        return assertTimeout(Duration.ofSeconds(1),
                () -> assertThrows(WeightsFormatException.class, () -> SafetensorsFile.open(p).close())).getMessage();
    }

    @Test
    void shapeWhoseElementCountOverflowsALongIsAFormatError() throws IOException {
        String m = refusal(write("a.safetensors", "{" + entry("w", "F32", "[4294967296,4294967296]", 0, 4) + "}", new byte[4]));
        assertTrue(m.contains("'w'") && m.contains("overflows"), m);
    }

    @Test
    void shapeWhoseByteCountOverflowsALongIsAFormatError() throws IOException {
        String m = refusal(write("b.safetensors", "{" + entry("w", "F32", "[4611686018427387904]", 0, 4) + "}", new byte[4]));
        assertTrue(m.contains("'w'") && m.contains("overflows"), m);
    }

    @Test
    void overlappingTensorsAreRefused() throws IOException {
        String m = refusal(write("o.safetensors", "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[1]", 4, 8) + "}",
                new byte[8]));
        assertTrue(m.contains("overlapping") && m.contains("'b'"), m);
    }

    @Test
    void aDuplicatedTensorNameIsRefused() throws IOException {
        String m = refusal(write("d.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 4, 8) + "}",
                new byte[8]));
        assertTrue(m.contains("'a'") && m.contains("twice"), m);
    }

    @Test
    void aGapBetweenTensorsIsRefused() throws IOException {
        String m = refusal(write("g.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}",
                new byte[12]));
        assertTrue(m.contains("gap") && m.contains("'b'"), m);
        m = refusal(write("g0.safetensors", "{" + entry("a", "F32", "[1]", 4, 8) + "}", new byte[8]));
        assertTrue(m.contains("gap") && m.contains("starts at 0"), m);
    }

    @Test
    void trailingBytesAfterTheLastTensorAreRefused() throws IOException {
        String m = refusal(write("t.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + "}", new byte[5]));
        assertTrue(m.contains("1 trailing bytes"), m);
        m = refusal(write("t0.safetensors", "{}", new byte[3]));
        assertTrue(m.contains("3 trailing bytes"), m);
    }

    @Test
    void aLowerCaseDtypeIsRefused() throws IOException {
        String m = refusal(write("l.safetensors", "{" + entry("a", "f32", "[1]", 0, 4) + "}", new byte[4]));
        assertTrue(m.contains("'f32'") && m.contains("upper case"), m);
    }

    @Test
    void tensorsOutOfHeaderOrderButContiguousByOffsetAreRead() throws IOException {
        // the reference sorts by offset: header order does not matter, only the tiling
        ByteBuffer data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(2f).putFloat(3f);
        Path p = write("r.safetensors", "{" + entry("b", "F32", "[2]", 4, 12) + "," + entry("z", "F32", "[0,5]", 4, 4) + ","
                + entry("a", "F32", "[1]", 0, 4) + "}", data.array());
        try (SafetensorsFile st = SafetensorsFile.open(p)) {
            assertEquals(java.util.List.of("b", "z", "a"), java.util.List.copyOf(st.tensors().keySet()));
            assertArrayEquals(new float[] {2f, 3f}, st.readFloats("b"));
            assertArrayEquals(new float[] {1f}, st.readFloats("a"));
            assertEquals(0, st.readFloats("z").length);
        }
    }

    @Test
    void headerThatIsNotStrictUtf8JsonIsRefused() throws IOException {
        byte[] bad = "{\"a\\u00e9\":1}".getBytes(StandardCharsets.UTF_8);
        bad[2] = (byte) 0xff;
        Path p = tmp.resolve("u.safetensors");
        Files.write(p, ByteBuffer.allocate(8 + bad.length).order(ByteOrder.LITTLE_ENDIAN).putLong(bad.length).put(bad).array());
        assertTrue(refusal(p).contains("UTF-8"));
        assertTrue(refusal(write("lenient.safetensors", "{a:{dtype:F32}}", new byte[0])).contains("not valid JSON"));
        String extra = refusal(write("extra.safetensors", "{} {}", new byte[0]));
        assertTrue(extra.contains("after its JSON object") || extra.contains("not valid JSON"), extra);
        assertTrue(refusal(write("meta.safetensors", "{\"__metadata__\":{\"n\":1}}", new byte[0])).contains("not a string"));
        assertTrue(refusal(write("field.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"x\":1}}",
                new byte[4])).contains("unexpected field 'x'"));
    }

    @Test
    void aHugeTensorNameIsShortenedInTheMessage() throws IOException {
        String name = "n".repeat(100_000);
        String m = refusal(write("n.safetensors", "{" + entry(name, "Q9", "[1]", 0, 1) + "}", new byte[1]));
        assertTrue(m.length() < 1000 && m.contains("100000 characters"), m);
    }
}
