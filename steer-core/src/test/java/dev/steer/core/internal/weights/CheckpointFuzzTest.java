package dev.steer.core.internal.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.steer.core.model.ModelConfigException;
import dev.steer.core.internal.weights.RelationClassifierWeights;
import dev.steer.core.testing.Conformance;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import dev.steer.core.weights.WeightsFormatException;

/**
 * A seeded, structure-aware mutation fuzzer for the two checkpoint readers, run for a fixed time by
 * the {@code fuzz} profile (see the README): {@code -Pfuzz -Dfuzz.seconds=600 [-Dfuzz.seed=N]
 * [-Dfuzz.reader=safetensors|pth]}. Each input is read with the default limits; the outcome is
 * counted as {@code ok}, as the documented exception ({@link WeightsFormatException}, or
 * {@link ModelConfigException} from the classifier loader) or as a failure: any other throwable
 * (an OutOfMemoryError or StackOverflowError included), a read that takes the reading thread
 * more than {@value #SLOW_MILLIS} ms of CPU time, or one that takes more than {@value #STALL_MILLIS}
 * ms of wall-clock time (a hang; CPU time is the budget because the campaign runs niced on shared
 * machines, where the wall clock also counts other processes and collector pauses). Every failure's input is saved under {@code target/fuzz-failures} with
 * its stack trace, and the test fails. Counts go to {@code target/fuzz-<reader>.txt}.
 */
@Tag("fuzz")
class CheckpointFuzzTest {
    static final long SLOW_MILLIS = 1000;
    static final long STALL_MILLIS = 10_000;
    private static final Path OUT = Paths.get("target");

    @Test
    void safetensorsReaderEndsInItsDocumentedExceptionOrSucceeds() throws Exception {
        campaign("safetensors", new SafetensorsInputs());
    }

    @Test
    void torchCheckpointReaderEndsInItsDocumentedExceptionOrSucceeds() throws Exception {
        campaign("pth", new PthInputs());
    }

    /** Generates one input file from the random source. */
    interface Inputs {
        /** Writes an input to {@code file} (its name ends as the reader expects). */
        void write(Random rnd, Path file) throws IOException;

        /** Reads it as the library does; returns the outcome when no exception escapes. */
        String read(Path file);

        String extension();
    }

    private static void campaign(String reader, Inputs inputs) throws Exception {
        String only = System.getProperty("fuzz.reader", "");
        if (!only.isEmpty() && !only.equals(reader)) {
            return;
        }
        long seconds = Long.getLong("fuzz.seconds", 10);
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        Random rnd = new Random(seed);
        Path work = Files.createDirectories(OUT.resolve("fuzz-work"));
        Path failures = Files.createDirectories(OUT.resolve("fuzz-failures"));
        Map<String, Long> counts = new TreeMap<>();
        List<String> failed = new ArrayList<>();
        ExecutorService exec = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(null, r, "fuzz-" + reader, 16L << 20);
            t.setDaemon(true);
            return t;
        });
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(seconds);
        long n = 0;
        long maxCpuMs = 0;
        long maxWallMs = 0;
        try {
            while (System.nanoTime() < deadline) {
                Path file = work.resolve("input" + inputs.extension());
                inputs.write(rnd, file);
                n++;
                long start = System.nanoTime();
                long[] cpu = new long[1];
                java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
                Future<String> f = exec.submit(() -> {
                    long c0 = threads.getCurrentThreadCpuTime();
                    try {
                        return inputs.read(file);
                    } finally {
                        cpu[0] = threads.getCurrentThreadCpuTime() - c0;
                    }
                });
                String outcome;
                Throwable problem = null;
                try {
                    outcome = f.get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof WeightsFormatException || c instanceof ModelConfigException) {
                        outcome = c.getClass().getSimpleName();
                    } else {
                        outcome = "FAILURE " + c.getClass().getName();
                        problem = c;
                    }
                } catch (TimeoutException e) {
                    outcome = "FAILURE hang over 30 s";
                    problem = e;
                }
                long ms = (System.nanoTime() - start) / 1_000_000;
                long cpuMs = cpu[0] / 1_000_000;
                maxCpuMs = Math.max(maxCpuMs, cpuMs);
                maxWallMs = Math.max(maxWallMs, ms);
                if (problem == null && (cpuMs > SLOW_MILLIS || ms > STALL_MILLIS)) {
                    outcome = "FAILURE slower than " + SLOW_MILLIS + " ms of CPU or " + STALL_MILLIS + " ms (" + outcome + ")";
                    problem = new AssertionError("took " + cpuMs + " ms of CPU, " + ms + " ms of wall-clock time");
                }
                counts.merge(outcome, 1L, Long::sum);
                if (problem != null) {
                    Path saved = failures.resolve(reader + "-" + seed + "-" + n + inputs.extension());
                    Files.copy(file, saved, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    StringWriter trace = new StringWriter();
                    problem.printStackTrace(new PrintWriter(trace));
                    Files.writeString(saved.resolveSibling(saved.getFileName() + ".txt"), outcome + "\n" + trace);
                    failed.add(outcome + ": " + saved);
                    if (outcome.contains("hang")) {
                        break; // the reading thread is stuck: end the campaign
                    }
                }
            }
        } finally {
            exec.shutdownNow();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        StringBuilder report = new StringBuilder(String.format("reader %s, seed %d, %d inputs in %.0f s, heap %d MB, slowest read %d ms "
                + "of CPU, %d ms of wall-clock time%n", reader, seed, n, secs, Runtime.getRuntime().maxMemory() >> 20, maxCpuMs, maxWallMs));
        counts.forEach((k, v) -> report.append(String.format("  %-60s %d%n", k, v)));
        failed.forEach(f -> report.append("  saved ").append(f).append('\n'));
        Files.writeString(OUT.resolve("fuzz-" + reader + ".txt"), report);
        System.out.print(report);
        assertEquals(List.of(), failed, "outcomes other than success or the documented exception; inputs saved");
    }

    // ---- safetensors: a header of entries edited as JSON, then the bytes around it

    private static final String[] DTYPES = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "f32", "F8_E4M3",
        "U16", "U32", "U64", "", "F32 ", "bf16"};
    private static final int[] DTYPE_BYTES = {8, 4, 2, 2, 8, 4, 2, 1, 1, 1};

    static final class SafetensorsInputs implements Inputs {
        @Override
        public String extension() {
            return ".safetensors";
        }

        @Override
        public String read(Path file) {
            try (SafetensorsFile st = SafetensorsFile.open(file)) {
                for (String name : st.tensors().keySet()) {
                    TensorInfo info = st.info(name);
                    if (info.dtype().isFloating()) {
                        st.readFloats(name);
                    } else {
                        st.readLongs(name);
                    }
                }
            }
            return "ok";
        }

        @Override
        public void write(Random rnd, Path file) throws IOException {
            // a valid file first: 0 to 5 tensors laid out contiguously
            List<String[]> entries = new ArrayList<>(); // name, dtype, shape json, offsets json
            long offset = 0;
            int count = rnd.nextInt(6);
            for (int i = 0; i < count; i++) {
                int d = rnd.nextInt(DTYPE_BYTES.length);
                int rank = rnd.nextInt(4);
                long elems = 1;
                StringBuilder shape = new StringBuilder("[");
                for (int k = 0; k < rank; k++) {
                    long dim = rnd.nextInt(5);
                    elems *= dim;
                    shape.append(k > 0 ? "," : "").append(dim);
                }
                shape.append(']');
                long bytes = elems * DTYPE_BYTES[d];
                entries.add(new String[] {"t" + i, DTYPES[d], shape.toString(), "[" + offset + "," + (offset + bytes) + "]"});
                offset += bytes;
            }
            String metadata = rnd.nextInt(3) == 0 ? "\"__metadata__\":{\"format\":\"pt\"}" : null;
            long dataBytes = offset;
            // structure-aware edits
            int edits = rnd.nextInt(4);
            for (int e = 0; e < edits && !entries.isEmpty(); e++) {
                String[] t = entries.get(rnd.nextInt(entries.size()));
                switch (rnd.nextInt(12)) {
                    case 0 -> t[1] = DTYPES[rnd.nextInt(DTYPES.length)];
                    case 1 -> t[2] = pick(rnd, "[4294967296,4294967296]", "[4611686018427387904]", "[-1]", "[0]", "[1,1,1,1,1,1,1,1,1]",
                            "[1.5]", "[\"2\"]", "[9223372036854775807,2]", "[1e3]", "[]", "{}", "[[1]]", "[99999999999999999999999]");
                    case 2 -> t[3] = pick(rnd, "[0,0]", "[4,0]", "[0,9223372036854775807]", "[-4,0]", "[0]", "[0,4,8]", "[]", "null",
                            "[0," + (dataBytes + 1) + "]", "[1," + (dataBytes) + "]");
                    case 3 -> { // overlap: copy another entry's offsets
                        t[3] = entries.get(rnd.nextInt(entries.size()))[3];
                    }
                    case 4 -> entries.add(t.clone()); // duplicate name
                    case 5 -> t[0] = pick(rnd, "__metadata__", "", "x".repeat(300), "\u00e9\u4e2d", "a\"b");
                    case 6 -> dataBytes += rnd.nextInt(9) - 4; // trailing bytes or truncation
                    case 7 -> metadata = pick(rnd, "\"__metadata__\":{\"n\":1}", "\"__metadata__\":[]", "\"__metadata__\":\"x\"",
                            "\"__metadata__\":{\"a\":\"b\",\"a\":\"c\"}", "\"__metadata__\":" + "[".repeat(5000));
                    case 8 -> entries.remove(t);
                    case 9 -> t[1] = t[1].toLowerCase(java.util.Locale.ROOT);
                    case 10 -> { // gap: shift one entry's offsets
                        t[3] = t[3].replaceFirst("\\[(\\d+)", "[" + (rnd.nextInt(16)));
                    }
                    default -> t[2] = "[" + (1L << rnd.nextInt(63)) + "," + (1L << rnd.nextInt(63)) + "]";
                }
            }
            StringBuilder h = new StringBuilder("{");
            boolean first = true;
            if (metadata != null) {
                h.append(metadata);
                first = false;
            }
            for (String[] t : entries) {
                h.append(first ? "" : ",");
                first = false;
                h.append('"').append(t[0].replace("\"", "\\\"")).append("\":{\"dtype\":\"").append(t[1]).append("\",\"shape\":")
                        .append(t[2]).append(",\"data_offsets\":").append(t[3]);
                if (rnd.nextInt(30) == 0) {
                    h.append(",\"extra\":1");
                }
                h.append('}');
            }
            h.append('}');
            if (rnd.nextInt(20) == 0) {
                h.append(pick(rnd, "   ", "\0\0", " {}", "x"));
            }
            byte[] header = h.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            // byte-level edits of the header text
            int flips = rnd.nextInt(8) == 0 ? 1 + rnd.nextInt(4) : 0;
            for (int i = 0; i < flips && header.length > 0; i++) {
                header[rnd.nextInt(header.length)] = (byte) pickInt(rnd, '[', ']', '{', '}', '"', ',', ':', '-', '9', 0xff, 0xc3, rnd.nextInt(256));
            }
            long declared = header.length;
            if (rnd.nextInt(25) == 0) {
                declared = pickLong(rnd, 0, -1, header.length + 1, header.length - 1, 1L << 40, SafetensorsFile.MAX_HEADER_BYTES + 1);
            }
            long data = Math.max(0, Math.min(dataBytes, 1 << 16));
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) (8 + header.length + data)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            buf.putLong(declared).put(header);
            byte[] all = buf.array();
            for (int i = 8 + header.length; i < all.length; i++) {
                all[i] = (byte) rnd.nextInt(256);
            }
            int cut = rnd.nextInt(40) == 0 ? rnd.nextInt(all.length + 1) : all.length;
            Files.write(file, java.util.Arrays.copyOf(all, cut));
        }
    }

    // ---- torch .pth: a pickle program of valid and hostile fragments, in a torch.save-like zip

    private static final String[] GLOBALS = {"collections\nOrderedDict", "torch._utils\n_rebuild_tensor_v2", "torch._utils\n_rebuild_parameter",
        "torch\nFloatStorage", "torch\nHalfStorage", "torch\nBFloat16Storage", "torch\nDoubleStorage", "torch\nLongStorage",
        "torch\nIntStorage", "torch\nByteStorage", "torch\nBoolStorage", "os\nsystem", "builtins\neval", "torch\nUntypedStorage",
        "__builtin__\nset", "torch._utils\n_rebuild_tensor"};
    private static final String[] STORAGES = {"FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "LongStorage",
        "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage"};
    private static final int[] STORAGE_BYTES = {4, 2, 2, 8, 8, 4, 2, 1, 1, 1};

    static final class PthInputs implements Inputs {
        private byte[] realPickle;
        private Map<String, byte[]> realStorages;

        @Override
        public String extension() {
            return ".pth";
        }

        /** The checkpoint, then (as the classifier loader would use it) the classifier built from it. */
        @Override
        public String read(Path file) {
            TorchCheckpoint.read(file);
            try {
                RelationClassifierWeights.load(file);
                return "ok (read; a classifier loaded)";
            } catch (WeightsFormatException | ModelConfigException e) {
                return "ok (read; the classifier loader refused it with " + e.getClass().getSimpleName() + ")";
            }
        }

        private void loadReal() throws IOException {
            if (realPickle != null) {
                return;
            }
            realStorages = new TreeMap<>();
            try (ZipFile z = new ZipFile(Conformance.dir("classifier-sd2-reference").resolve("classifier.pth").toFile())) {
                for (ZipEntry e : java.util.Collections.list(z.entries())) {
                    byte[] b = z.getInputStream(e).readAllBytes();
                    if (e.getName().endsWith("/data.pkl")) {
                        realPickle = b;
                    } else if (e.getName().contains("/data/")) {
                        realStorages.put(e.getName().substring(e.getName().lastIndexOf('/') + 1), b);
                    }
                }
            }
        }

        @Override
        public void write(Random rnd, Path file) throws IOException {
            Map<String, byte[]> storages = new TreeMap<>();
            byte[] pickle;
            if (rnd.nextInt(200) == 0) {
                loadReal();
                pickle = realPickle.clone();
                storages.putAll(realStorages);
            } else {
                pickle = program(rnd, storages);
            }
            // byte-level edits: flips, inserted opcodes, deleted or repeated ranges
            int edits = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(3) : 0;
            for (int i = 0; i < edits && pickle.length > 2; i++) {
                int at = 2 + rnd.nextInt(pickle.length - 2);
                switch (rnd.nextInt(4)) {
                    case 0 -> pickle[at] = (byte) rnd.nextInt(256);
                    case 1 -> pickle = splice(pickle, at, 0, new byte[] {(byte) pickInt(rnd, '(', 't', 'l', 'd', 'u', 'e', 'a', 's', 'R', 'b',
                            'Q', '0', '2', 'h', 'q', 0x93, 0x85, 0x86, 0x94, ']', '}', ')', 'N', '.')});
                    case 2 -> pickle = splice(pickle, at, Math.min(pickle.length - at, 1 + rnd.nextInt(8)), new byte[0]);
                    default -> {
                        int len = Math.min(pickle.length - at, 1 + rnd.nextInt(16));
                        pickle = splice(pickle, at, 0, java.util.Arrays.copyOfRange(pickle, at, at + len));
                    }
                }
            }
            // archive-level edits: storages dropped, resized, or added
            if (rnd.nextInt(6) == 0 && !storages.isEmpty()) {
                String k = storages.keySet().iterator().next();
                switch (rnd.nextInt(3)) {
                    case 0 -> storages.remove(k);
                    case 1 -> storages.put(k, java.util.Arrays.copyOf(storages.get(k), Math.max(0, storages.get(k).length + rnd.nextInt(17) - 8)));
                    default -> storages.put(k, new byte[1 << (10 + rnd.nextInt(12))]); // zeros: a small bomb
                }
            }
            Pickle.archive(file, pick(rnd, "archive", "archive", "a/b", "x"), pickle, storages);
        }

        private static byte[] program(Random rnd, Map<String, byte[]> storages) {
            Pickle p = new Pickle().proto();
            int fragments = 1 + rnd.nextInt(4);
            p.op('}');
            for (int f = 0; f < fragments; f++) {
                p.str("k" + f);
                value(rnd, p, storages, 0);
                p.op('s');
            }
            return p.op('.').bytes();
        }

        /** Pushes one value: plain, a tensor, or one of the hostile shapes. */
        private static void value(Random rnd, Pickle p, Map<String, byte[]> storages, int depth) {
            int kind = depth > 3 ? rnd.nextInt(3) : rnd.nextInt(20);
            switch (kind) {
                case 0 -> p.op('K').raw(rnd.nextInt(256));
                case 1 -> p.str(pick(rnd, "above", "", "x".repeat(rnd.nextInt(300))));
                case 2 -> p.op('N');
                case 3, 4, 5 -> tensor(rnd, p, storages);
                case 6 -> { // list of values
                    p.op(']').op('(');
                    for (int i = rnd.nextInt(4); i > 0; i--) {
                        value(rnd, p, storages, depth + 1);
                    }
                    p.op('e');
                }
                case 7 -> { // tuple
                    p.op('(');
                    for (int i = rnd.nextInt(4); i > 0; i--) {
                        value(rnd, p, storages, depth + 1);
                    }
                    p.op('t');
                }
                case 8 -> { // deep nesting
                    int n = pickInt(rnd, 10, 70, 1000, 100_000);
                    p.times(n, ']').times(n - 1, 'a');
                }
                case 9 -> { // shared nesting: t = (t, t) many times, maybe used as a key
                    p.op(')').times(pickInt(rnd, 3, 20, 40, 64), '2', 0x86);
                    if (rnd.nextBoolean()) {
                        p.op('}').op('(').op('N').op('d'); // a DICT of an odd number of items
                        p.op('0');
                        p.op('}').op('2').op('q').raw(9).op('0'); // a dict memoized as 9
                        p.op('0');
                    }
                }
                case 10 -> { // a dict with a tuple or list key
                    p.op('}').op(']').op('2').op('a').op('K').raw(1).op('s');
                    if (rnd.nextBoolean()) {
                        p.op('0').op('}').op(')').times(pickInt(rnd, 2, 10, 40), '2', 0x86).op('K').raw(1).op('s');
                    }
                }
                case 11 -> { // memo abuse: BINPUT/LONG_BINPUT at odd indices, BINGET of unset ones
                    p.op(']');
                    for (int i = rnd.nextInt(5); i >= 0; i--) {
                        p.op('r').u32(pickLong(rnd, 0, 1, 255, 1L << 20, (1L << 20) - 1, 0xffffffffL));
                    }
                    if (rnd.nextInt(3) == 0) {
                        p.op('0').op('h').raw(rnd.nextInt(256));
                    }
                }
                case 12 -> { // huge declared lengths
                    p.op(pickInt(rnd, 'X', 'B', 0x8d)).u32(pickLong(rnd, 0xffffffffL, 1L << 24, 100, 0x7fffffff));
                    if (rnd.nextBoolean()) {
                        p.u32(rnd.nextInt(2));
                    }
                }
                case 13 -> { // a global, maybe REDUCEd or BUILt
                    String g = GLOBALS[rnd.nextInt(GLOBALS.length)];
                    if (rnd.nextBoolean()) {
                        p.op('c');
                        for (byte b : (g + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII)) {
                            p.raw(b);
                        }
                    } else {
                        String[] mn = g.split("\n");
                        p.str(mn[0]).str(mn[1]).op(0x93);
                    }
                    switch (rnd.nextInt(4)) {
                        case 0 -> p.op(')').op('R');
                        case 1 -> p.op('}').op('b');
                        case 2 -> {
                            p.op('(');
                            value(rnd, p, storages, depth + 1);
                            p.op('t').op('R');
                        }
                        default -> p.op(')').op('R').op('}').op('b');
                    }
                }
                case 14 -> p.op(0x8a).raw(pickInt(rnd, 0, 1, 8, 9, 255)).times(rnd.nextInt(10), 0xff);
                case 15 -> p.times(pickInt(rnd, 10, 65, 1000, 200_000), '(').op('N');
                case 16 -> p.times(pickInt(rnd, 100, 1 << 16, 1 << 21), ']').op('(').op('l'); // pushes without a mark
                case 17 -> { // many views of one storage
                    int n = pickInt(rnd, 2, 100, 5000);
                    p.op(']').op('(');
                    String key = "v" + rnd.nextInt(3);
                    long numel = pickLong(rnd, 1, 16, 1 << 16);
                    storages.putIfAbsent(key, new byte[(int) numel * 4]);
                    for (int i = 0; i < n; i++) {
                        p.tensor("FloatStorage", key, numel, 0, new long[] {numel}, new long[] {1});
                    }
                    p.op('e');
                }
                case 18 -> p.op(0x95).u32(rnd.nextInt()).u32(0); // FRAME
                default -> { // a persistent id of odd parts
                    p.op('(').str(pick(rnd, "storage", "module")).op('c');
                    for (byte b : ("torch\n" + STORAGES[rnd.nextInt(STORAGES.length)] + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII)) {
                        p.raw(b);
                    }
                    p.str(pick(rnd, "0", "../x", "a/b", "k" + rnd.nextInt(3))).str("cpu").integer(pickLong(rnd, -1, 0, 1, (1L << 31) - 1))
                            .op('t').op('Q');
                }
            }
        }

        /** A _rebuild_tensor_v2 call with a storage that fits, or nearly. */
        private static void tensor(Random rnd, Pickle p, Map<String, byte[]> storages) {
            int s = rnd.nextInt(STORAGES.length);
            String key = String.valueOf(rnd.nextInt(4));
            int rank = rnd.nextInt(4);
            long[] shape = new long[rank];
            long[] stride = new long[rank];
            long acc = 1;
            for (int i = rank - 1; i >= 0; i--) {
                shape[i] = rnd.nextInt(5);
                stride[i] = acc;
                acc *= Math.max(1, shape[i]);
            }
            long offset = rnd.nextInt(3);
            long numel = offset + acc;
            switch (rnd.nextInt(10)) {
                case 0 -> numel += rnd.nextInt(5) - 2;
                case 1 -> { if (rank > 0) { stride[0] = pickLong(rnd, 0, -1, 1L << 40, 1L << 62); } }
                case 2 -> { if (rank > 0) { shape[0] = pickLong(rnd, 1L << 31, 1L << 40, -1, 0x7fffffff); } }
                case 3 -> offset = pickLong(rnd, -1, 1L << 40, numel);
                case 4 -> numel = pickLong(rnd, 1L << 40, 1L << 62, 0x7fffffffL);
                default -> { }
            }
            byte[] prior = storages.get(key);
            int bytes = (int) Math.max(0, Math.min(numel * STORAGE_BYTES[s], 1 << 16));
            if (prior == null || rnd.nextInt(3) == 0) {
                storages.put(key, new byte[bytes]);
            }
            p.tensor(STORAGES[s], key, numel, offset, shape, stride);
        }
    }

    // ---- helpers

    @SafeVarargs
    private static <T> T pick(Random rnd, T... options) {
        return options[rnd.nextInt(options.length)];
    }

    private static int pickInt(Random rnd, int... options) {
        return options[rnd.nextInt(options.length)];
    }

    private static long pickLong(Random rnd, long... options) {
        return options[rnd.nextInt(options.length)];
    }

    private static byte[] splice(byte[] a, int at, int remove, byte[] insert) {
        byte[] out = new byte[a.length - remove + insert.length];
        System.arraycopy(a, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(a, at + remove, out, at + insert.length, a.length - at - remove);
        return out;
    }
}
