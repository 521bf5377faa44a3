package dev.steer.core.internal.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeout;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.internal.weights.RelationClassifierWeights;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import dev.steer.core.weights.WeightsFormatException;

/**
 * Torch checkpoints built to make a reader hang, overflow its stack, run off a buffer or run out of
 * memory, as a fuzzer found them: each ends in a {@link WeightsFormatException} (or, where the file
 * is valid, the right values) within a second. This class also runs in a 256 MB heap (see the
 * module's pom), with the default limits.
 */
class HostileCheckpointsTest {
    private static final Duration SECOND = Duration.ofSeconds(1);

    @TempDir
    Path tmp;

    private Path archive(String name, Pickle p, Map<String, byte[]> storages) throws IOException {
        return Pickle.archive(tmp.resolve(name + ".pth"), name, p.bytes(), storages);
    }

    private static String refusal(Path file) {
        return refusal(() -> TorchCheckpoint.read(file));
    }

    private static String refusal(Executable read) {
        return assertTimeout(SECOND, () -> assertThrows(WeightsFormatException.class, read)).getMessage();
    }

    @Test
    void aTupleKeyBuiltFromItselfFortyTimesIsRefusedWithoutHashingIt() throws IOException {
        // t = (); 40 times t = (t, t); {t: 1}: 2^40 hash steps if hashed
        Pickle p = new Pickle().proto().op('}').op(')').times(40, '2', 0x86).op('K').raw(1).op('s').op('.');
        assertTrue(p.bytes().length < 210);
        String m = refusal(archive("tuple", p, Map.of()));
        assertTrue(m.contains("dict key"), m);
    }

    @Test
    void aListAppendedToItselfUsedAsAKeyIsRefused() throws IOException {
        Pickle p = new Pickle().proto().op('}').op(']').op('2').op('a').op('K').raw(1).op('s').op('.');
        String m = refusal(archive("self", p, Map.of()));
        assertTrue(m.contains("dict key") && m.contains("nested deeper"), m);
    }

    @Test
    void listsNestedAHundredThousandDeepAreRefusedAsKeyAndAsValue() throws IOException {
        Pickle key = new Pickle().proto().op('}').times(100_000, ']').times(99_999, 'a').op('K').raw(1).op('s').op('.');
        String m = refusal(archive("deepkey", key, Map.of()));
        assertTrue(m.contains("dict key") && m.contains("nested deeper"), m);
        Pickle value = new Pickle().proto().times(100_000, ']').times(99_999, 'a').op('.');
        m = refusal(archive("deepvalue", value, Map.of()));
        assertTrue(m.contains("nested deeper than 64"), m);
    }

    @Test
    void oneStorageViewedWithTwoDtypesIsRefusedNamingIt() throws IOException {
        // 4 bytes as U8[4], then the same key as 4 x F64 (32 bytes): used to run off the cached buffer
        Pickle p = new Pickle().proto().op('}').op('(')
                .str("a").tensor("ByteStorage", "0", 4, 0, new long[] {4}, new long[] {1})
                .str("b").tensor("DoubleStorage", "0", 4, 0, new long[] {4}, new long[] {1})
                .op('u').op('.');
        String m = refusal(archive("dtypes", p, Map.of("0", new byte[] {1, 2, 3, 4})));
        assertTrue(m.contains("storage '0'") && m.contains("4 U8") && m.contains("4 F64"), m);
    }

    @Test
    void aStorageSmallerThanItsDeclaredSizeIsRefusedBeforeAnyViewRunsOffIt() throws IOException {
        Pickle p = new Pickle().proto().op('}').str("a").tensor("DoubleStorage", "0", 4, 0, new long[] {4}, new long[] {1})
                .op('s').op('.');
        String m = refusal(archive("small", p, Map.of("0", new byte[] {1, 2, 3, 4})));
        assertTrue(m.contains("storage '0'") && m.contains("truncated"), m);
    }

    /** A .pth whose storage '0' inflates to {@code bytes} zero bytes (a 600 MB entry is a 0.6 MB file). */
    private Path bomb(String name, Pickle p, long bytes) throws IOException {
        Path file = tmp.resolve(name + ".pth");
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream z = new ZipOutputStream(os)) {
            z.setLevel(Deflater.BEST_COMPRESSION);
            z.putNextEntry(new ZipEntry(name + "/data.pkl"));
            z.write(p.bytes());
            z.closeEntry();
            z.putNextEntry(new ZipEntry(name + "/data/0"));
            byte[] zeros = new byte[1 << 20];
            for (long left = bytes; left > 0; left -= zeros.length) {
                z.write(zeros, 0, (int) Math.min(left, zeros.length));
            }
            z.closeEntry();
        }
        assertTrue(Files.size(file) < bytes / 500, "the archive is small: " + Files.size(file));
        return file;
    }

    @Test
    void aStorageEntryThatInflatesFarBeyondItsDeclaredSizeIsRefusedUnread() throws IOException {
        long mb600 = 600L << 20;
        // the pickle declares a one-element storage; its entry inflates to 600 MB
        Pickle one = new Pickle().proto().op('}').str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
                .op('s').op('.');
        String m = refusal(bomb("bomb1", one, mb600));
        assertTrue(m.contains("storage '0'") && m.contains("declares 1 F32"), m);
    }

    @Test
    void aOneElementTensorOnA600MbStorageReadsFourBytes() throws IOException {
        long mb600 = 600L << 20;
        // the pickle declares the 600 MB honestly, and one tensor views its first element
        Pickle first = new Pickle().proto().op('}').str("w")
                .tensor("FloatStorage", "0", mb600 / 4, 0, new long[] {1}, new long[] {1}).op('s').op('.');
        Path file = bomb("bomb2", first, mb600);
        TensorData w = assertTimeout(SECOND, () -> (TensorData) TorchCheckpoint.read(file).dict().get("w"));
        assertArrayEquals(new float[] {0f}, w.floats());
        // its last element would mean inflating all of it for 4 bytes: more than the read budget
        // (64 MB here: the budget is 4 times what the tensors need plus 1 MiB, whatever the size)
        long mb64 = 64L << 20;
        Pickle last = new Pickle().proto().op('}').str("w")
                .tensor("FloatStorage", "0", mb64 / 4, mb64 / 4 - 1, new long[] {1}, new long[] {1}).op('s').op('.');
        String m = refusal(bomb("bomb3", last, mb64));
        assertTrue(m.contains("storage '0'") && m.contains("need 4 bytes"), m);
    }

    @Test
    void aStrideZeroViewLargerThanTheHeapIsRefusedBeforeItIsAllocated() throws IOException {
        // one long viewed twice 2^30 - 1 times: 16 GB of longs from 8 bytes of storage
        long n = (1L << 30) - 1;
        Pickle p = new Pickle().proto().op('}').op('(')
                .str("a").tensor("LongStorage", "0", 1, 0, new long[] {n}, new long[] {0})
                .str("b").tensor("LongStorage", "0", 1, 0, new long[] {n}, new long[] {0})
                .op('u').op('.');
        String m = refusal(archive("stride0", p, Map.of("0", new byte[8])));
        assertTrue(m.contains("bytes of heap"), m);
        // the element budget holds whatever the heap
        TorchCheckpoint.Limits few = TorchCheckpoint.Limits.DEFAULT.withTensorBudget(1000, 4);
        Path small = archive("stride0b", new Pickle().proto().op('}').str("w")
                .tensor("FloatStorage", "0", 1, 0, new long[] {1001}, new long[] {0}).op('s').op('.'), Map.of("0", new byte[4]));
        m = refusal(() -> TorchCheckpoint.read(small, few));
        assertTrue(m.contains("more than 1000 elements"), m);
    }

    @Test
    void thirtyMillionEmptyListPushesAreRefusedAtTheObjectBudget() throws IOException {
        Pickle p = new Pickle().proto().times(30_000_000, ']').op('.');
        Path file = archive("pushes", p, Map.of());
        assertTrue(Files.size(file) < 64 << 10, "a small file: " + Files.size(file));
        String m = refusal(file);
        assertTrue(m.contains("more than 1048576"), m);
    }

    @Test
    void fourMillionMemoEntriesAreRefusedAtTheMemoBudget() throws IOException {
        Pickle p = new Pickle().proto().op(']');
        for (int i = 0; i < 4_000_000; i++) {
            p.op('r').u32(i);
        }
        String m = refusal(archive("memo", p.op('.'), Map.of()));
        assertTrue(m.contains("memo index 1048576"), m);
    }

    @Test
    void aFiveMillionElementListIsRefusedAtTheStackOrItemBudget() throws IOException {
        // APPENDS of 5 million references to one memoized value: the stack budget
        Pickle appends = new Pickle().proto().op(']').op('K').raw(7).op('q').raw(0).op('0').op('(').times(5_000_000, 'h', 0)
                .op('e').op('.');
        String m = refusal(archive("appends", appends, Map.of()));
        assertTrue(m.contains("values on the stack"), m);
        // 5 million APPENDs of one memoized value, one by one: the item budget
        Pickle append = new Pickle().proto().op(']').op('K').raw(7).op('q').raw(0).op('0').times(5_000_000, 'h', 0, 'a').op('.');
        m = refusal(archive("append", append, Map.of()));
        assertTrue(m.contains("items"), m);
    }

    @Test
    void aDeeplySharedInputChannelsValueGivesAShortMessageQuickly() throws IOException {
        // input_channels = t where t = []; 60 times t = [t, t]: 2^60 leaves when printed
        Pickle p = new Pickle().proto().op('}').op('(')
                .str("model_state_dict").op('}')
                .str("config").op('}')
                .str("idx_to_rel_name").op('}')
                .str("input_channels").op(']').times(60, '2', 0x86)
                .op('u').op('.');
        Path file = archive("channels", p, Map.of());
        String m = refusal(() -> RelationClassifierWeights.load(file));
        assertTrue(m.contains("'input_channels'") && m.length() < 600, m);
    }

    @Test
    void validViewsOfOneStorageShareItsBytes() throws IOException {
        // a [2, 3] view and a transposed view of the same 6 floats: one read of the storage serves both
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            b.putFloat(i);
        }
        Pickle p = new Pickle().proto().op('}').op('(')
                .str("a").tensor("FloatStorage", "s", 6, 0, new long[] {2, 3}, new long[] {3, 1})
                .str("t").tensor("FloatStorage", "s", 6, 0, new long[] {3, 2}, new long[] {1, 3})
                .str("tail").tensor("FloatStorage", "s", 6, 4, new long[] {2}, new long[] {1})
                .op('u').op('.');
        Map<String, TensorData> sd = assertTimeout(SECOND, () -> {
            Path file = archive("views", p, Map.of("s", b.array()));
            return TorchCheckpoint.read(file).dict().entrySet().stream()
                    .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> (TensorData) e.getValue()));
        });
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, sd.get("a").floats());
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, sd.get("t").floats());
        assertArrayEquals(new float[] {4, 5}, sd.get("tail").floats());
        assertEquals(4, sd.get("tail").storageOffset());
    }

    @Test
    void aHugeStringKeyIsShortenedInMessages() throws IOException {
        Pickle p = new Pickle().proto().op('}').str("x".repeat(1 << 20)).op('K').raw(1).op('s').op('.');
        Path file = archive("key", p, Map.of());
        String m = refusal(() -> TorchCheckpoint.read(file).tensors("nope"));
        assertTrue(m.length() < 600 && m.contains("no entry 'nope'"), m);
        String brief = UntrustedText.brief(java.util.List.of("x".repeat(1 << 20)));
        assertTrue(brief.length() <= UntrustedText.MAX_CHARS && brief.startsWith("['xxx") && brief.endsWith("..."), brief);
    }
}
