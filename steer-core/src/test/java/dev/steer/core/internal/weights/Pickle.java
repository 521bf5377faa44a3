package dev.steer.core.internal.weights;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Emits pickle opcodes the way CPython's protocol-2 pickler does, and wraps pickles in torch.save-like archives (tests only). */
final class Pickle {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pickle op(int code) {
        out.write(code);
        return this;
    }

    Pickle raw(int b) {
        out.write(b);
        return this;
    }

    /** Writes {@code bytes} (opcodes and their arguments) {@code n} times. */
    Pickle times(int n, int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) bytes[i];
        }
        for (int i = 0; i < n; i++) {
            out.write(b, 0, b.length);
        }
        return this;
    }

    /** A little-endian 4-byte argument. */
    Pickle u32(long v) {
        return raw((int) (v & 0xff)).raw((int) ((v >> 8) & 0xff)).raw((int) ((v >> 16) & 0xff)).raw((int) ((v >> 24) & 0xff));
    }

    Pickle proto() {
        return op(0x80).raw(2);
    }

    Pickle str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        int n = b.length;
        raw(n & 0xff).raw((n >> 8) & 0xff).raw((n >> 16) & 0xff).raw((n >>> 24) & 0xff);
        out.writeBytes(b);
        return this;
    }

    Pickle global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    /** BININT when {@code v} fits in 32 bits, else LONG1 of 8 bytes. */
    Pickle integer(long v) {
        if (v != (int) v) {
            op(0x8a).raw(8);
            for (int i = 0; i < 8; i++) {
                raw((int) ((v >>> (8 * i)) & 0xff));
            }
            return this;
        }
        op('J');
        return raw((int) (v & 0xff)).raw((int) ((v >> 8) & 0xff)).raw((int) ((v >> 16) & 0xff)).raw((int) ((v >> 24) & 0xff));
    }

    Pickle binfloat(double d) {
        op('G');
        long bits = Double.doubleToLongBits(d);
        for (int i = 7; i >= 0; i--) {
            raw((int) ((bits >>> (8 * i)) & 0xff));
        }
        return this;
    }

    Pickle tuple(long... values) {
        op('(');
        for (long v : values) {
            integer(v);
        }
        return op('t');
    }

    /** _rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict()). */
    Pickle tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        op('(');
        op('(').str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).op('t').op('Q');
        integer(offset);
        tuple(size);
        tuple(stride);
        op(0x89);
        global("collections", "OrderedDict").op(')').op('R');
        op('t');
        return op('R');
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    /** A torch.save-like archive: {@code <name>/data.pkl}, {@code byteorder}, one entry per storage, {@code version}. */
    static Path archive(Path file, String name, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(os)) {
            z.putNextEntry(new ZipEntry(name + "/data.pkl"));
            z.write(pickle);
            z.closeEntry();
            z.putNextEntry(new ZipEntry(name + "/byteorder"));
            z.write("little".getBytes(StandardCharsets.US_ASCII));
            z.closeEntry();
            for (Map.Entry<String, byte[]> s : storages.entrySet()) {
                z.putNextEntry(new ZipEntry(name + "/data/" + s.getKey()));
                z.write(s.getValue());
                z.closeEntry();
            }
            z.putNextEntry(new ZipEntry(name + "/version"));
            z.write("3\n".getBytes(StandardCharsets.US_ASCII));
            z.closeEntry();
        }
        return file;
    }
}
