package dev.steer.core.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a checkpoint written by {@code torch.save} (the zip format of PyTorch 1.6 and later) without
 * Python and without executing anything: {@code <name>/data.pkl} is read by a restricted unpickler
 * that knows only dicts, lists, tuples, strings, numbers, booleans, None, OrderedDicts and tensors
 * (see {@link Unpickler#ALLOWED_GLOBALS}), and each tensor's values are read from its storage entry
 * {@code <name>/data/<key>} (byte order from {@code <name>/byteorder}, little-endian when absent).
 *
 * <p>Everything is bounded ({@link Limits}): the number of zip entries, the pickle's size, each
 * storage's size and their total, memo entries, nesting and string lengths; a storage shorter than
 * its declared size, or than the extent of a tensor viewing it, is refused naming its key. Errors
 * are {@link WeightsFormatException}s naming the file and the problem.
 *
 * <p>The result is plain Java values (see {@link #root()}) with tensors as {@link TensorData}.
 */
public final class TorchCheckpoint {

    /**
     * Bounds on what reading one checkpoint may take.
     *
     * @param maxEntries zip entries
     * @param maxPickleBytes size of {@code data.pkl}
     * @param maxStorageBytes size of one storage
     * @param maxTotalStorageBytes size of all storages read
     * @param maxMemo pickle memo entries
     * @param maxMarkDepth nesting of pickle MARKs
     * @param maxNesting nesting of containers in the result
     * @param maxStringBytes length of one string
     */
    public record Limits(int maxEntries, long maxPickleBytes, long maxStorageBytes, long maxTotalStorageBytes, int maxMemo,
            int maxMarkDepth, int maxNesting, int maxStringBytes) {

        /** Generous for real checkpoints (a few GB of tensors, thousands of them). */
        public static final Limits DEFAULT = new Limits(1 << 20, 256L << 20, Integer.MAX_VALUE - 64, 64L << 30, 1 << 22, 64, 64,
                16 << 20);
    }

    private final Path path;
    private final Object root;

    private TorchCheckpoint(Path path, Object root) {
        this.path = path;
        this.root = root;
    }

    /** Reads a checkpoint with {@link Limits#DEFAULT}. @throws WeightsFormatException naming the file and the problem */
    public static TorchCheckpoint read(Path file) {
        return read(file, Limits.DEFAULT);
    }

    /** Reads a checkpoint within the given limits. @throws WeightsFormatException naming the file and the problem */
    public static TorchCheckpoint read(Path file, Limits limits) {
        if (!Files.exists(file)) {
            throw new WeightsFormatException(file, "file not found");
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return new TorchCheckpoint(file, new Reader(file, zip, limits).read());
        } catch (ZipException e) {
            throw new WeightsFormatException(file, "not a readable zip archive (torch.save of PyTorch >= 1.6), truncated or corrupt: "
                    + e.getMessage(), e);
        } catch (NoSuchFileException e) {
            throw new WeightsFormatException(file, "file not found");
        } catch (IOException e) {
            throw new WeightsFormatException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** True when the file starts with a zip signature (as torch.save's output does). */
    public static boolean looksLikeTorchZip(Path file) {
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
        } catch (IOException e) {
            return false;
        }
    }

    /** The file read. */
    public Path path() {
        return path;
    }

    /**
     * The unpickled object: dicts as {@code Map<Object, Object>} in pickle order (OrderedDicts
     * included), lists and tuples as {@code List<Object>}, str as String, int as Long, float as
     * Double, bool as Boolean, None as null, bytes as byte[], tensors as {@link TensorData}.
     */
    public Object root() {
        return root;
    }

    /** The root as a dict with string keys (what checkpoints saved as a dict of named entries are). */
    public Map<String, Object> dict() {
        return stringKeyed(root, "the checkpoint's root");
    }

    /**
     * The root's entry {@code key} as a dict of named tensors (a state dict).
     *
     * @throws WeightsFormatException if the entry is missing or holds anything but tensors
     */
    public Map<String, TensorData> tensors(String key) {
        Map<String, Object> top = dict();
        if (!top.containsKey(key)) {
            throw new WeightsFormatException(path, "no entry '" + key + "' (entries: " + top.keySet() + ")");
        }
        Map<String, Object> entries = stringKeyed(top.get(key), "entry '" + key + "'");
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : entries.entrySet()) {
            if (!(e.getValue() instanceof TensorData t)) {
                throw new WeightsFormatException(path, "'" + key + "' entry '" + e.getKey() + "' is not a tensor");
            }
            out.put(e.getKey(), t);
        }
        return Collections.unmodifiableMap(out);
    }

    private Map<String, Object> stringKeyed(Object o, String what) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new WeightsFormatException(path, what + " is not a dict");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String k)) {
                throw new WeightsFormatException(path, what + " has a non-string key " + e.getKey());
            }
            out.put(k, e.getValue());
        }
        return Collections.unmodifiableMap(out);
    }

    /** One read of one archive. */
    private static final class Reader implements Unpickler.TensorFactory {
        private final Path file;
        private final ZipFile zip;
        private final Limits limits;
        private final Map<String, ByteBuffer> storages = new HashMap<>();
        private String prefix;
        private ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        private long storageBytesRead;

        Reader(Path file, ZipFile zip, Limits limits) {
            this.file = file;
            this.zip = zip;
            this.limits = limits;
        }

        Object read() throws IOException {
            if (zip.size() > limits.maxEntries()) {
                throw new WeightsFormatException(file, "archive has " + zip.size() + " entries, more than the limit of "
                        + limits.maxEntries());
            }
            String pkl = null;
            Enumeration<? extends ZipEntry> en = zip.entries();
            while (en.hasMoreElements()) {
                String name = en.nextElement().getName();
                int slash = name.indexOf('/');
                if (slash > 0 && name.indexOf('/', slash + 1) < 0 && name.endsWith("/data.pkl")) {
                    if (pkl != null) {
                        throw new WeightsFormatException(file, "archive holds two pickles (" + pkl + ", " + name + ")");
                    }
                    pkl = name;
                }
            }
            if (pkl == null) {
                throw new WeightsFormatException(file, "zip archive without <name>/data.pkl: not a torch.save checkpoint");
            }
            prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
            ZipEntry byteorder = zip.getEntry(prefix + "byteorder");
            if (byteorder != null) {
                String bo = new String(readEntry(byteorder, 16, "byteorder"), StandardCharsets.US_ASCII).trim();
                switch (bo) {
                    case "little" -> order = ByteOrder.LITTLE_ENDIAN;
                    case "big" -> order = ByteOrder.BIG_ENDIAN;
                    default -> throw new WeightsFormatException(file, prefix + "byteorder says '" + bo + "', not little or big");
                }
            }
            byte[] pickle = readEntry(zip.getEntry(pkl), limits.maxPickleBytes(), pkl);
            return Unpickler.load(pickle, file, pkl, new Unpickler.Limits(limits.maxMemo(), limits.maxMarkDepth(),
                    limits.maxNesting(), limits.maxStringBytes()), this);
        }

        private byte[] readEntry(ZipEntry entry, long max, String what) throws IOException {
            long declared = entry.getSize();
            if (declared > max) {
                throw new WeightsFormatException(file, what + " is " + declared + " bytes, more than the limit of " + max);
            }
            try (InputStream in = zip.getInputStream(entry)) {
                byte[] out = in.readNBytes((int) Math.min(max + 1, Integer.MAX_VALUE - 8));
                if (out.length > max) {
                    throw new WeightsFormatException(file, what + " is more than the limit of " + max + " bytes");
                }
                if (declared >= 0 && out.length != declared) {
                    throw new WeightsFormatException(file, what + " holds " + out.length + " bytes but the archive declares "
                            + declared + ": truncated or corrupt");
                }
                return out;
            } catch (ZipException e) {
                throw new WeightsFormatException(file, what + ": corrupt zip entry: " + e.getMessage(), e);
            }
        }

        private ByteBuffer storage(Unpickler.StorageRef ref) {
            ByteBuffer cached = storages.get(ref.key());
            if (cached != null) {
                return cached;
            }
            String name = prefix + "data/" + ref.key();
            ZipEntry entry = zip.getEntry(name);
            if (entry == null) {
                throw new WeightsFormatException(file, "storage '" + ref.key() + "' is missing from the archive (no entry " + name + ")");
            }
            long need;
            try {
                need = Math.multiplyExact(ref.numel(), (long) ref.dtype().bytes());
            } catch (ArithmeticException e) {
                throw new WeightsFormatException(file, "storage '" + ref.key() + "' declares an impossible size " + ref.numel());
            }
            if (need > limits.maxStorageBytes()) {
                throw new WeightsFormatException(file, "storage '" + ref.key() + "' is " + need + " bytes, more than the limit of "
                        + limits.maxStorageBytes());
            }
            if (storageBytesRead + need > limits.maxTotalStorageBytes()) {
                throw new WeightsFormatException(file, "storages exceed the limit of " + limits.maxTotalStorageBytes() + " bytes in all");
            }
            byte[] bytes;
            try {
                bytes = readEntry(entry, limits.maxStorageBytes(), "storage '" + ref.key() + "'");
            } catch (IOException e) {
                throw new WeightsFormatException(file, "cannot read storage '" + ref.key() + "': " + e.getMessage(), e);
            }
            if (bytes.length < need) {
                throw new WeightsFormatException(file, "storage '" + ref.key() + "' holds " + bytes.length + " bytes but declares "
                        + ref.numel() + " " + ref.dtype() + " elements (" + need + " bytes): truncated");
            }
            storageBytesRead += bytes.length;
            ByteBuffer buf = ByteBuffer.wrap(bytes).order(order);
            storages.put(ref.key(), buf);
            return buf;
        }

        @Override
        public Object tensor(Unpickler.StorageRef ref, long offset, long[] shape, long[] strides) {
            String what = "tensor of shape " + Arrays.toString(shape) + " on storage '" + ref.key() + "'";
            long count = 1;
            long maxIndex = offset;
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] < 0 || strides[i] < 0) {
                    throw new WeightsFormatException(file, what + " has a negative size or stride " + Arrays.toString(strides));
                }
                try {
                    count = Math.multiplyExact(count, shape[i]);
                    if (shape[i] > 0) {
                        maxIndex = Math.addExact(maxIndex, Math.multiplyExact(shape[i] - 1, strides[i]));
                    }
                } catch (ArithmeticException e) {
                    throw new WeightsFormatException(file, what + " has an impossible extent");
                }
            }
            if (offset < 0) {
                throw new WeightsFormatException(file, what + " has a negative storage offset " + offset);
            }
            if (count > Integer.MAX_VALUE - 8) {
                throw new WeightsFormatException(file, what + " has " + count + " elements, too many for one Java array");
            }
            if (count > 0 && maxIndex >= ref.numel()) {
                throw new WeightsFormatException(file, what + " (offset " + offset + ", strides " + Arrays.toString(strides)
                        + ") reaches element " + maxIndex + " but storage '" + ref.key() + "' holds only " + ref.numel()
                        + " elements: storage too short");
            }
            ByteBuffer buf = count == 0 ? ByteBuffer.allocate(0) : storage(ref);
            int n = (int) count;
            TensorDType dt = ref.dtype();
            float[] floats = dt.isFloating() ? new float[n] : null;
            long[] longs = dt.isFloating() ? null : new long[n];
            int rank = shape.length;
            long[] idx = new long[rank];
            long elem = offset;
            for (int k = 0; k < n; k++) {
                int at = Math.toIntExact(elem * dt.bytes());
                switch (dt) {
                    case F32 -> floats[k] = buf.getFloat(at);
                    case F64 -> floats[k] = (float) buf.getDouble(at);
                    case F16 -> floats[k] = HalfFloats.halfToFloat(buf.getShort(at));
                    case BF16 -> floats[k] = Float.intBitsToFloat((buf.getShort(at) & 0xffff) << 16);
                    case I64 -> longs[k] = buf.getLong(at);
                    case I32 -> longs[k] = buf.getInt(at);
                    case I16 -> longs[k] = buf.getShort(at);
                    case I8 -> longs[k] = buf.get(at);
                    case U8, BOOL -> longs[k] = buf.get(at) & 0xff;
                    default -> throw new IllegalStateException(dt.toString());
                }
                // advance the row-major multi-index
                for (int d = rank - 1; d >= 0; d--) {
                    idx[d]++;
                    elem += strides[d];
                    if (idx[d] < shape[d]) {
                        break;
                    }
                    elem -= idx[d] * strides[d];
                    idx[d] = 0;
                }
            }
            return new TensorData(dt, shape.clone(), strides.clone(), offset, floats, longs);
        }
    }
}
