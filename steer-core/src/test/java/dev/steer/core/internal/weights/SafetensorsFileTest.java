package dev.steer.core.internal.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.steer.core.weights.WeightsFormatException;

class SafetensorsFileTest {
    @TempDir
    Path tmp;

    /** Writes a safetensors file with the given header text and data bytes. */
    private Path write(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h).put(data);
        Path p = tmp.resolve(name);
        Files.write(p, buf.array());
        return p;
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    private WeightsFormatException refused(Path p) {
        return assertThrows(WeightsFormatException.class, () -> SafetensorsFile.open(p).close());
    }

    @Test
    void readsFloat32Float16AndBfloat16AsFloats() throws IOException {
        ByteBuffer half = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        half.putShort((short) 0x3C00).putShort((short) 0xC000); // 1.0, -2.0
        ByteBuffer bf = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        bf.putShort((short) 0x3FC0).putShort((short) 0x4040); // 1.5, 3.0
        byte[] f32 = floats(0.5f, 2f);
        byte[] data = new byte[16];
        System.arraycopy(f32, 0, data, 0, 8);
        System.arraycopy(half.array(), 0, data, 8, 4);
        System.arraycopy(bf.array(), 0, data, 12, 4);
        Path p = write("ok.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]},\"__metadata__\":{\"format\":\"pt\"}}", data);
        try (SafetensorsFile st = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {0.5f, 2f}, st.readFloats("a"));
            assertArrayEquals(new float[] {1f, -2f}, st.readFloats("h"));
            assertArrayEquals(new float[] {1.5f, 3f}, st.readFloats("b"));
            assertEquals("pt", st.metadata().get("format"));
            assertEquals(3, st.tensors().size());
        }
    }

    @Test
    void refusesMissingFileNamingIt() {
        WeightsFormatException e = refused(tmp.resolve("nope.safetensors"));
        assertTrue(e.getMessage().contains("nope.safetensors") && e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void refusesTruncatedFile() throws IOException {
        Path p = write("t.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", floats(1f, 2f));
        WeightsFormatException e = refused(p);
        assertTrue(e.getMessage().contains("t.safetensors") && e.getMessage().contains("outside the data section"), e.getMessage());
    }

    @Test
    void refusesFileShorterThanTheLengthPrefix() throws IOException {
        Path p = tmp.resolve("short.safetensors");
        Files.write(p, new byte[] {1, 2, 3});
        assertTrue(refused(p).getMessage().contains("too short"));
    }

    @Test
    void refusesHeaderLengthBeyondTheFile() throws IOException {
        Path p = tmp.resolve("h.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).putLong(0);
        Files.write(p, b.array());
        WeightsFormatException e = refused(p);
        assertTrue(e.getMessage().contains("beyond the end of the file"), e.getMessage());
    }

    @Test
    void refusesAbsurdHeaderLength() throws IOException {
        Path p = tmp.resolve("huge.safetensors");
        Files.write(p, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).putLong(0).array());
        assertTrue(refused(p).getMessage().contains("header length"));
    }

    @Test
    void refusesOffsetsOutsideTheData() throws IOException {
        Path p = write("o.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", floats(1f, 2f));
        assertTrue(refused(p).getMessage().contains("data_offsets"));
    }

    @Test
    void refusesSizeThatDisagreesWithShapeAndDtype() throws IOException {
        Path p = write("s.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", floats(1f, 2f));
        WeightsFormatException e = refused(p);
        assertTrue(e.getMessage().contains("need 12"), e.getMessage());
    }

    @Test
    void refusesUnknownDtypeNamingTheTensor() throws IOException {
        Path p = write("d.safetensors", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]);
        WeightsFormatException e = refused(p);
        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("F8_E4M3"), e.getMessage());
    }

    @Test
    void refusesHeaderThatIsNotJson() throws IOException {
        Path p = write("j.safetensors", "{not json", new byte[0]);
        assertTrue(refused(p).getMessage().contains("not valid JSON"));
    }

    @Test
    void unknownTensorNameIsAnErrorNamingIt() throws IOException {
        Path p = write("n.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1f));
        try (SafetensorsFile st = SafetensorsFile.open(p)) {
            WeightsFormatException e = assertThrows(WeightsFormatException.class, () -> st.readFloats("b"));
            assertTrue(e.getMessage().contains("'b'"));
        }
    }

    @Test
    void halfFloatConversionCoversSubnormalsAndSpecials() {
        assertEquals(0x1p-24f, HalfFloats.halfToFloat((short) 0x0001));
        assertEquals(65504f, HalfFloats.halfToFloat((short) 0x7BFF));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.halfToFloat((short) 0x7C00));
        assertTrue(Float.isNaN(HalfFloats.halfToFloat((short) 0x7E00)));
        assertEquals(-0f, HalfFloats.halfToFloat((short) 0x8000));
    }
}
