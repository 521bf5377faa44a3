package dev.steer.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ModelBuffersTest {
    @Test
    void smallGraphsGoToDirectMemoryLargeOnesToAnUnlinkedMappedFile() throws Exception {
        ByteBuffer small = ModelBuffers.allocate(1024);
        assertTrue(small.isDirect());
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        long before;
        try (var s = Files.list(tmp)) {
            before = s.filter(p -> p.getFileName().toString().startsWith("steer-onnx-")).count();
        }
        ByteBuffer large = ModelBuffers.allocate(ModelBuffers.DIRECT_LIMIT + 1);
        assertTrue(large instanceof MappedByteBuffer);
        assertEquals(ModelBuffers.DIRECT_LIMIT + 1, large.capacity());
        large.put(ModelBuffers.DIRECT_LIMIT, (byte) 7);
        assertEquals(7, large.get(ModelBuffers.DIRECT_LIMIT));
        try (var s = Files.list(tmp)) {
            assertEquals(before, s.filter(p -> p.getFileName().toString().startsWith("steer-onnx-")).count(), "temp file left behind");
        }
    }
}
