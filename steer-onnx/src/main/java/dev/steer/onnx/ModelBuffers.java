package dev.steer.onnx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where a rewritten graph is assembled before ONNX Runtime parses it. Small graphs (the usual case:
 * real UNets keep their weights in external data files, so the graph itself is a few MB) go to a
 * direct buffer. Graphs with large inline weights go to a memory-mapped temporary file in
 * {@code java.io.tmpdir} (deleted as soon as it is mapped), so they count neither against the heap
 * nor against the direct-memory limit. Nothing is ever written into the model folder.
 */
final class ModelBuffers {
    /** Graphs up to this size are assembled in a direct buffer. */
    static final int DIRECT_LIMIT = 64 << 20;

    private ModelBuffers() {
    }

    static ByteBuffer allocate(int size) {
        if (size <= DIRECT_LIMIT) {
            return ByteBuffer.allocateDirect(size);
        }
        try {
            Path tmp = Files.createTempFile("steer-onnx-", ".onnx");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                return ch.map(FileChannel.MapMode.READ_WRITE, 0, size);
            } finally {
                try {
                    Files.delete(tmp); // the mapping stays valid on POSIX systems
                } catch (IOException e) {
                    tmp.toFile().deleteOnExit();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary file for a " + size + "-byte rewritten graph", e);
        }
    }
}
