package dev.steer.core.internal.weights;

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
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import dev.steer.core.weights.WeightsFormatException;

/**
 * Reads a checkpoint written by {@code torch.save} (the zip format of PyTorch 1.6 and later) without
 * Python and without executing anything: {@code <name>/data.pkl} is read by a restricted unpickler
 * that knows only dicts, lists, tuples, strings, numbers, booleans, None, OrderedDicts and tensors
 * (see {@link Unpickler#ALLOWED_GLOBALS}), and each tensor's values are read from its storage entry
 * {@code <name>/data/<key>} (byte order from {@code <name>/byteorder}, little-endian when absent).
 *
 * <p>Everything is bounded ({@link Limits}): the number of zip entries, the pickle's size, the
 * unpickler's stack, objects, container items and memo, nesting and string lengths, tensor
 * elements, each storage's size and the bytes read from storages. Each storage is read once, after
 * the whole pickle is known, and only as far as the tensors viewing it reach (a 600 MB storage
 * behind a one-element tensor costs 4 bytes); a storage declared with two dtypes or sizes, one whose
 * zip entry is not exactly its declared size, or one shorter than the extent of a tensor viewing it
 * is refused naming its key. Errors are {@link WeightsFormatException}s naming the file and the
 * problem, with untrusted values shortened ({@link UntrustedText}).
 *
 * <p>The result is plain Java values (see {@link #root()}) with tensors as {@link TensorData}.
 */
public final class TorchCheckpoint {

    /**
     * Bounds on what reading one checkpoint may take; every one is checked before the work or the
     * memory it bounds is spent, and exceeding one is a {@link WeightsFormatException} naming it.
     *
     * @param maxEntries zip entries (a torch.save archive has one per storage, plus 3 or 4)
     * @param maxPickleBytes size of {@code data.pkl}
     * @param maxStorageBytes size of one storage
     * @param maxTotalStorageBytes bytes read from all storages
     * @param maxMemo pickle memo entries (memo indices must be below this)
     * @param maxMarkDepth nesting of pickle MARKs
     * @param maxNesting nesting of containers in the result
     * @param maxStringBytes length of one string
     * @param maxStackDepth values on the unpickler's stack at once
     * @param maxObjects values the pickle creates in all (containers, strings, numbers, tensors)
     * @param maxItems items the pickle puts into lists, tuples and dicts in all
     * @param maxTotalElements tensor elements read into the heap in all (views of one storage count each time)
     * @param storageReadFactor how much more of a storage may be read than its tensors need: a
     *     storage is read from its start to the end of the last byte a tensor views, which may be
     *     at most {@code storageReadFactor} times the bytes its tensors need, plus 1 MiB
     */
    public record Limits(int maxEntries, long maxPickleBytes, long maxStorageBytes, long maxTotalStorageBytes, int maxMemo,
            int maxMarkDepth, int maxNesting, int maxStringBytes, int maxStackDepth, long maxObjects, long maxItems,
            long maxTotalElements, int storageReadFactor) {

        /**
         * Generous for real checkpoints (a few GB of tensors, thousands of them; the SD 1.5 checkpoint
         * with EMA weights has about 2,300 storages, a 300 KB pickle and 70,000 pickle objects), tight
         * enough that a hostile archive cannot make the reader spend much more memory or time than
         * the tensors it returns need: 65,536 zip entries, a 32 MB pickle, 2 GB per storage (a Java
         * array), 64 GB of storages read, 2^20 memo entries, 64 nested MARKs and containers, 16 MB
         * strings, 2^20 values on the stack, 2^20 objects, 2^22 container items, 2^31 tensor
         * elements, and a storage read at most 4 times (plus 1 MiB) what its tensors need. Besides,
         * tensors that would not fit in the heap the JVM has left are refused before they are read.
         */
        public static final Limits DEFAULT = new Limits(1 << 16, 32L << 20, Integer.MAX_VALUE - 64, 64L << 30, 1 << 20, 64, 64,
                16 << 20, 1 << 20, 1 << 20, 1 << 22, 1L << 31, 4);

        /** The first eight bounds, with the {@link #DEFAULT} for the others. */
        public Limits(int maxEntries, long maxPickleBytes, long maxStorageBytes, long maxTotalStorageBytes, int maxMemo,
                int maxMarkDepth, int maxNesting, int maxStringBytes) {
            this(maxEntries, maxPickleBytes, maxStorageBytes, maxTotalStorageBytes, maxMemo, maxMarkDepth, maxNesting, maxStringBytes,
                    1 << 20, 1 << 20, 1 << 22, 1L << 31, 4);
        }

        /** These limits with other bounds on the unpickler's stack, objects and container items. */
        public Limits withPickleBudget(int stackDepth, long objects, long items) {
            return new Limits(maxEntries, maxPickleBytes, maxStorageBytes, maxTotalStorageBytes, maxMemo, maxMarkDepth, maxNesting,
                    maxStringBytes, stackDepth, objects, items, maxTotalElements, storageReadFactor);
        }

        /** These limits with other bounds on tensor elements read and on storage bytes read per byte needed. */
        public Limits withTensorBudget(long totalElements, int readFactor) {
            return new Limits(maxEntries, maxPickleBytes, maxStorageBytes, maxTotalStorageBytes, maxMemo, maxMarkDepth, maxNesting,
                    maxStringBytes, maxStackDepth, maxObjects, maxItems, totalElements, readFactor);
        }
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
            throw new WeightsFormatException(path, "no entry '" + key + "' (entries: " + UntrustedText.brief(List.copyOf(top.keySet())) + ")");
        }
        Map<String, Object> entries = stringKeyed(top.get(key), "entry '" + key + "'");
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : entries.entrySet()) {
            if (!(e.getValue() instanceof TensorData t)) {
                throw new WeightsFormatException(path, "'" + key + "' entry " + UntrustedText.brief(e.getKey()) + " is not a tensor");
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
                throw new WeightsFormatException(path, what + " has a non-string key " + UntrustedText.brief(e.getKey()));
            }
            out.put(k, e.getValue());
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * A tensor as the pickle describes it, read once the whole pickle is known (so that each storage
     * is read once, only as far as its tensors need).
     */
    private static final class PendingTensor {
        final Unpickler.StorageRef ref;
        final long offset;
        final long[] shape;
        final long[] strides;
        final int count;
        final long maxIndex;

        PendingTensor(Unpickler.StorageRef ref, long offset, long[] shape, long[] strides, int count, long maxIndex) {
            this.ref = ref;
            this.offset = offset;
            this.shape = shape;
            this.strides = strides;
            this.count = count;
            this.maxIndex = maxIndex;
        }
    }

    /** What the tensors need of one storage. */
    private static final class StorageNeed {
        final Unpickler.StorageRef ref;
        final List<PendingTensor> tensors = new ArrayList<>();
        long firstElement = Long.MAX_VALUE;
        long endElement;
        long neededBytes;

        StorageNeed(Unpickler.StorageRef ref) {
            this.ref = ref;
        }
    }

    /** One read of one archive. */
    private static final class Reader implements Unpickler.TensorFactory {
        private final Path file;
        private final ZipFile zip;
        private final Limits limits;
        private final Map<String, StorageNeed> storages = new LinkedHashMap<>();
        private String prefix;
        private ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        private long totalElements;
        private long heapBytes;

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
                        throw new WeightsFormatException(file, "archive holds two pickles (" + brief(pkl) + ", " + brief(name) + ")");
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
                    default -> throw new WeightsFormatException(file, brief(prefix) + "byteorder says '" + brief(bo)
                            + "', not little or big");
                }
            }
            byte[] pickle = readEntry(zip.getEntry(pkl), limits.maxPickleBytes(), pkl);
            Object root = Unpickler.load(pickle, file, brief(pkl), new Unpickler.Limits(limits.maxMemo(), limits.maxMarkDepth(),
                    limits.maxNesting(), limits.maxStringBytes(), limits.maxStackDepth(), limits.maxObjects(), limits.maxItems()), this);
            pickle = null; // the tensors may need the heap it takes
            checkHeap();
            Map<PendingTensor, TensorData> read = new IdentityHashMap<>();
            long storageBytesRead = 0;
            for (StorageNeed need : storages.values()) {
                storageBytesRead += readStorage(need, read, storageBytesRead);
            }
            return replacePending(root, read, Collections.newSetFromMap(new IdentityHashMap<>()));
        }

        private byte[] readEntry(ZipEntry entry, long max, String what) throws IOException {
            long declared = entry.getSize();
            if (declared > max) {
                throw new WeightsFormatException(file, brief(what) + " is " + declared + " bytes, more than the limit of " + max);
            }
            try (InputStream in = zip.getInputStream(entry)) {
                byte[] out = in.readNBytes((int) Math.min(max + 1, Integer.MAX_VALUE - 8));
                if (out.length > max) {
                    throw new WeightsFormatException(file, brief(what) + " is more than the limit of " + max + " bytes");
                }
                if (declared >= 0 && out.length != declared) {
                    throw new WeightsFormatException(file, brief(what) + " holds " + out.length + " bytes but the archive declares "
                            + declared + ": truncated or corrupt");
                }
                return out;
            } catch (ZipException e) {
                throw new WeightsFormatException(file, brief(what) + ": corrupt zip entry: " + e.getMessage(), e);
            }
        }

        /** Refuses tensors that cannot fit in what is left of the heap, before any of them is read. */
        private void checkHeap() {
            Runtime rt = Runtime.getRuntime();
            long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
            if (heapBytes > available) {
                throw new WeightsFormatException(file, "its tensors need " + heapBytes + " bytes of heap, more than the "
                        + available + " bytes this JVM has left (maximum heap " + rt.maxMemory() + ")");
            }
        }

        @Override
        public Object tensor(Unpickler.StorageRef ref, long offset, long[] shape, long[] strides) {
            String what = "tensor of shape " + Arrays.toString(shape) + " on storage '" + ref.key() + "'";
            StorageNeed need = storages.get(ref.key());
            if (need != null && (need.ref.dtype() != ref.dtype() || need.ref.numel() != ref.numel())) {
                throw new WeightsFormatException(file, "storage '" + ref.key() + "' is declared as " + need.ref.numel() + " "
                        + need.ref.dtype() + " elements and as " + ref.numel() + " " + ref.dtype()
                        + " elements (torch.save never writes one storage with two types or sizes)");
            }
            long storageBytes;
            try {
                storageBytes = Math.multiplyExact(ref.numel(), (long) ref.dtype().bytes());
            } catch (ArithmeticException e) {
                throw new WeightsFormatException(file, "storage '" + ref.key() + "' declares an impossible size " + ref.numel());
            }
            if (storageBytes > limits.maxStorageBytes()) {
                throw new WeightsFormatException(file, "storage '" + ref.key() + "' is " + storageBytes + " bytes, more than the limit of "
                        + limits.maxStorageBytes());
            }
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
            totalElements += count;
            if (totalElements > limits.maxTotalElements()) {
                throw new WeightsFormatException(file, "its tensors hold more than " + limits.maxTotalElements()
                        + " elements in all (views of one storage count each time)");
            }
            heapBytes += count * (ref.dtype().isFloating() ? 4L : 8L);
            if (need == null) {
                need = new StorageNeed(ref);
                storages.put(ref.key(), need);
            }
            PendingTensor t = new PendingTensor(ref, offset, shape.clone(), strides.clone(), (int) count, maxIndex);
            if (count > 0) {
                need.firstElement = Math.min(need.firstElement, offset);
                need.endElement = Math.max(need.endElement, maxIndex + 1);
                need.neededBytes += count * ref.dtype().bytes();
            }
            need.tensors.add(t);
            return t;
        }

        /** Reads the part of one storage its tensors view and fills them in; returns the bytes read. */
        private long readStorage(StorageNeed need, Map<PendingTensor, TensorData> out, long readSoFar) {
            Unpickler.StorageRef ref = need.ref;
            int size = ref.dtype().bytes();
            long end = need.endElement * size;
            if (end > 0) {
                long allowed = need.neededBytes * limits.storageReadFactor() + (1L << 20);
                if (end > allowed) {
                    throw new WeightsFormatException(file, "storage '" + ref.key() + "' would be read up to byte " + end
                            + " for tensors that need " + need.neededBytes + " bytes of it (at most " + limits.storageReadFactor()
                            + " times what they need, plus 1 MiB, is read)");
                }
                if (readSoFar + end > limits.maxTotalStorageBytes()) {
                    throw new WeightsFormatException(file, "storages exceed the limit of " + limits.maxTotalStorageBytes()
                            + " bytes read in all");
                }
            }
            String name = prefix + "data/" + ref.key();
            ZipEntry entry = zip.getEntry(name);
            if (entry == null) {
                throw new WeightsFormatException(file, "storage '" + ref.key() + "' is missing from the archive (no entry "
                        + brief(name) + ")");
            }
            long declaredBytes = ref.numel() * size;
            if (entry.getSize() >= 0 && entry.getSize() != declaredBytes) {
                throw new WeightsFormatException(file, "storage '" + ref.key() + "' holds " + entry.getSize() + " bytes but declares "
                        + ref.numel() + " " + ref.dtype() + " elements (" + declaredBytes + " bytes): "
                        + (entry.getSize() < declaredBytes ? "truncated" : "corrupt"));
            }
            long begin = need.firstElement == Long.MAX_VALUE ? 0 : need.firstElement * size;
            ByteBuffer buf = ByteBuffer.allocate(0);
            if (end > begin) {
                byte[] bytes;
                try (InputStream in = zip.getInputStream(entry)) {
                    in.skipNBytes(begin);
                    bytes = in.readNBytes((int) (end - begin));
                } catch (java.io.EOFException e) {
                    bytes = new byte[0];
                } catch (ZipException e) {
                    throw new WeightsFormatException(file, "storage '" + ref.key() + "': corrupt zip entry: " + e.getMessage(), e);
                } catch (IOException e) {
                    throw new WeightsFormatException(file, "cannot read storage '" + ref.key() + "': " + e.getMessage(), e);
                }
                if (bytes.length != end - begin) {
                    throw new WeightsFormatException(file, "storage '" + ref.key() + "' ends before byte " + end + " that its tensors "
                            + "view (it declares " + ref.numel() + " " + ref.dtype() + " elements): truncated");
                }
                buf = ByteBuffer.wrap(bytes).order(order);
            }
            for (PendingTensor t : need.tensors) {
                out.put(t, materialize(t, buf, begin / size));
            }
            return end;
        }

        private static TensorData materialize(PendingTensor t, ByteBuffer buf, long firstElement) {
            int n = t.count;
            TensorDType dt = t.ref.dtype();
            float[] floats = dt.isFloating() ? new float[n] : null;
            long[] longs = dt.isFloating() ? null : new long[n];
            int rank = t.shape.length;
            long[] idx = new long[rank];
            long elem = t.offset - firstElement;
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
                    elem += t.strides[d];
                    if (idx[d] < t.shape[d]) {
                        break;
                    }
                    elem -= idx[d] * t.strides[d];
                    idx[d] = 0;
                }
            }
            return new TensorData(dt, t.shape.clone(), t.strides.clone(), t.offset, floats, longs);
        }

        /** The result with every pending tensor replaced by its values (the unpickler checked that it is acyclic and shallow). */
        @SuppressWarnings("unchecked")
        private static Object replacePending(Object o, Map<PendingTensor, TensorData> read, Set<Object> done) {
            if (o instanceof PendingTensor t) {
                return read.get(t);
            }
            if (!(o instanceof Map) && !(o instanceof List) || !done.add(o)) {
                return o;
            }
            if (o instanceof Map<?, ?> m) {
                for (Map.Entry<Object, Object> e : ((Map<Object, Object>) m).entrySet()) {
                    Object v = e.getValue();
                    Object r = replacePending(v, read, done);
                    if (r != v) {
                        e.setValue(r);
                    }
                }
            } else {
                List<Object> l = (List<Object>) o;
                for (int i = 0; i < l.size(); i++) {
                    Object v = l.get(i);
                    Object r = replacePending(v, read, done);
                    if (r != v) {
                        l.set(i, r);
                    }
                }
            }
            return o;
        }
    }

    /** An untrusted string as it may appear in a message: at most 200 characters. */
    private static String brief(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "... (" + s.length() + " characters)";
    }
}
