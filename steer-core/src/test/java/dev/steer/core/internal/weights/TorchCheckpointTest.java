package dev.steer.core.internal.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.testing.Conformance;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.steer.core.weights.WeightsFormatException;

class TorchCheckpointTest {
    private static final String FIXTURE = "classifier-sd2-reference";

    @TempDir
    Path tmp;

    @Test
    void readsThePublishedCheckpointDict() {
        TorchCheckpoint ck = TorchCheckpoint.read(Conformance.dir(FIXTURE).resolve("classifier.pth"));
        Map<String, Object> d = ck.dict();
        assertEquals(List.of("model_state_dict", "rel_name_to_idx", "idx_to_rel_name", "input_channels", "config", "training_config"),
                List.copyOf(d.keySet()));
        assertEquals(1368L, d.get("input_channels"));
        Map<?, ?> relToIdx = (Map<?, ?>) d.get("rel_name_to_idx");
        assertEquals(List.of("above", "below", "to the left of", "to the right of", "is"), List.copyOf(relToIdx.keySet()));
        assertEquals(2L, relToIdx.get("to the left of"));
        Map<?, ?> idxToRel = (Map<?, ?>) d.get("idx_to_rel_name");
        assertEquals("is", idxToRel.get(4L));
        Map<?, ?> config = (Map<?, ?>) d.get("config");
        assertEquals(256L, config.get("d_model"));
        assertEquals("attention", config.get("architecture"));
        Map<?, ?> extractor = (Map<?, ?>) config.get("extractor");
        assertEquals(0.3, extractor.get("dropout"));
        assertEquals(Boolean.TRUE, ((Map<?, ?>) extractor.get("timestep_embedding")).get("enable"));
        assertEquals(1e-4, ((Map<?, ?>) d.get("training_config")).get("lr"));
    }

    @Test
    void everyStateDictTensorEqualsTheSafetensorsCopy() {
        TorchCheckpoint ck = TorchCheckpoint.read(Conformance.dir(FIXTURE).resolve("classifier.pth"));
        Map<String, TensorData> sd = ck.tensors("model_state_dict");
        try (SafetensorsFile st = SafetensorsFile.open(Conformance.dir(FIXTURE).resolve("classifier.safetensors"))) {
            assertEquals(st.tensors().keySet(), sd.keySet());
            for (Map.Entry<String, TensorData> e : sd.entrySet()) {
                TensorData t = e.getValue();
                assertEquals(TensorDType.F32, t.dtype(), e.getKey());
                assertArrayEquals(st.info(e.getKey()).shape(), t.shape(), e.getKey());
                assertArrayEquals(st.readFloats(e.getKey()), t.floats(), e.getKey());
            }
        }
    }

    @Test
    void stateDictWrittenBySafetensorsWriterReadsBack() {
        Map<String, TensorData> sd = TorchCheckpoint.read(Conformance.dir(FIXTURE).resolve("classifier.pth")).tensors("model_state_dict");
        Map<String, TensorData> all = new LinkedHashMap<>(sd);
        all.put("ids", TensorData.ofLongs(new long[] {2, 2}, new long[] {1, -2, 3, Long.MAX_VALUE}));
        Path out = tmp.resolve("copy.safetensors");
        SafetensorsWriter.write(out, all, Map.of("format", "pt"));
        try (SafetensorsFile st = SafetensorsFile.open(out)) {
            assertEquals("pt", st.metadata().get("format"));
            for (Map.Entry<String, TensorData> e : sd.entrySet()) {
                assertArrayEquals(e.getValue().shape(), st.info(e.getKey()).shape());
                assertArrayEquals(e.getValue().floats(), st.readFloats(e.getKey()), e.getKey());
            }
            assertArrayEquals(new long[] {1, -2, 3, Long.MAX_VALUE}, st.readLongs("ids"));
        }
    }

    @Test
    void disallowedGlobalIsRefusedByName() throws IOException {
        // cos\nsystem\n, ('echo pwned',), REDUCE: what a malicious checkpoint does
        Pickle p = new Pickle().proto().global("os", "system").str("echo pwned").op(0x85).op('R').op('.');
        Path file = archive("evil", p.bytes(), Map.of());
        WeightsFormatException e = assertThrows(WeightsFormatException.class, () -> TorchCheckpoint.read(file));
        assertTrue(e.getMessage().contains("'os.system'") && e.getMessage().contains("not allowed"), e.getMessage());
        // the same with protocol 4's STACK_GLOBAL
        Pickle p4 = new Pickle().proto().str("builtins").str("eval").op(0x93).str("1").op(0x85).op('R').op('.');
        e = assertThrows(WeightsFormatException.class, () -> TorchCheckpoint.read(archive("evil4", p4.bytes(), Map.of())));
        assertTrue(e.getMessage().contains("'builtins.eval'"), e.getMessage());
    }

    @Test
    void buildOnAnythingButAnOrderedDictIsRefused() throws IOException {
        // an allowed global as BUILD target: BUILD would set attributes on it in Python
        Pickle p = new Pickle().proto().global("torch._utils", "_rebuild_parameter").op('}').op('b').op('.');
        WeightsFormatException e = assertThrows(WeightsFormatException.class,
                () -> TorchCheckpoint.read(archive("b", p.bytes(), Map.of())));
        assertTrue(e.getMessage().contains("BUILD"), e.getMessage());
    }

    @Test
    void handcraftedCheckpointReadsTensorsAndValues() throws IOException {
        // {'w': tensor of shape [2, 3] viewing a 7-float storage at offset 1 (transposed strides), 'n': -5, 'x': 1.5, 'k': None}
        Pickle p = new Pickle().proto().op('}').op('(')
                .str("w").tensor("FloatStorage", "0", 7, 1, new long[] {2, 3}, new long[] {1, 2})
                .str("n").op(0x8a).raw(1).raw(0xfb)
                .str("x").binfloat(1.5)
                .str("k").op('N')
                .op('u').op('.');
        Path file = archive("ok", p.bytes(), Map.of("0", floats(0, 1, 2, 3, 4, 5, 6)));
        TorchCheckpoint ck = TorchCheckpoint.read(file);
        Map<String, Object> d = ck.dict();
        TensorData t = (TensorData) d.get("w");
        assertArrayEquals(new long[] {2, 3}, t.shape());
        // element [i][j] = storage[1 + i + 2j]
        assertArrayEquals(new float[] {1, 3, 5, 2, 4, 6}, t.floats());
        assertEquals(-5L, d.get("n"));
        assertEquals(1.5, d.get("x"));
        assertTrue(d.containsKey("k"));
        assertNull(d.get("k"));
        WeightsFormatException e = assertThrows(WeightsFormatException.class, () -> ck.tensors("w"));
        assertTrue(e.getMessage().contains("not a dict"), e.getMessage());
    }

    @Test
    void tensorReachingPastItsStorageIsRefusedNamingTheKey() throws IOException {
        // storage declares 4 elements, tensor needs 10
        Pickle p = new Pickle().proto().op('}').str("w").tensor("FloatStorage", "7", 4, 0, new long[] {10}, new long[] {1})
                .op('s').op('.');
        Path file = archive("short", p.bytes(), Map.of("7", floats(1, 2, 3, 4)));
        WeightsFormatException e = assertThrows(WeightsFormatException.class, () -> TorchCheckpoint.read(file));
        assertTrue(e.getMessage().contains("storage '7'") && e.getMessage().contains("too short"), e.getMessage());

        // storage declares 10 elements but its entry holds 8 bytes
        Pickle p2 = new Pickle().proto().op('}').str("w").tensor("FloatStorage", "3", 10, 0, new long[] {10}, new long[] {1})
                .op('s').op('.');
        Path file2 = archive("trunc", p2.bytes(), Map.of("3", floats(1, 2)));
        e = assertThrows(WeightsFormatException.class, () -> TorchCheckpoint.read(file2));
        assertTrue(e.getMessage().contains("storage '3'") && e.getMessage().contains("truncated"), e.getMessage());

        // storage entry missing altogether
        Path file3 = archive("missing", p2.bytes(), Map.of());
        e = assertThrows(WeightsFormatException.class, () -> TorchCheckpoint.read(file3));
        assertTrue(e.getMessage().contains("storage '3'") && e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void truncatedArchiveIsRefused() throws IOException {
        Path src = Conformance.dir(FIXTURE).resolve("classifier.pth");
        byte[] all = Files.readAllBytes(src);
        for (int keep : new int[] {all.length / 2, all.length - 10, 100, 0}) {
            Path cut = tmp.resolve("cut" + keep + ".pth");
            Files.write(cut, java.util.Arrays.copyOf(all, keep));
            WeightsFormatException e = assertThrows(WeightsFormatException.class, () -> TorchCheckpoint.read(cut));
            assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("truncated or corrupt"), e.getMessage());
        }
        assertFalse(TorchCheckpoint.looksLikeTorchZip(tmp.resolve("cut0.pth")));
        assertTrue(TorchCheckpoint.looksLikeTorchZip(src));
    }

    @Test
    void truncatedOrUnboundedPicklesAreRefused() throws IOException {
        // string longer than the pickle
        Pickle p = new Pickle().proto().op('X').raw(0xff).raw(0xff).raw(0).raw(0).str("abc");
        WeightsFormatException e = assertThrows(WeightsFormatException.class,
                () -> TorchCheckpoint.read(archive("s", p.bytes(), Map.of())));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        // no STOP
        e = assertThrows(WeightsFormatException.class,
                () -> TorchCheckpoint.read(archive("n", new Pickle().proto().op('}').bytes(), Map.of())));
        assertTrue(e.getMessage().contains("without STOP"), e.getMessage());
        // deep nesting: 100 lists inside each other
        Pickle deep = new Pickle().proto();
        for (int i = 0; i < 100; i++) {
            deep.op(']');
        }
        for (int i = 0; i < 99; i++) {
            deep.op('a');
        }
        deep.op('.');
        e = assertThrows(WeightsFormatException.class, () -> TorchCheckpoint.read(archive("d", deep.bytes(), Map.of())));
        assertTrue(e.getMessage().contains("nested deeper"), e.getMessage());
        // a list that contains itself
        Pickle cyc = new Pickle().proto().op(']').op('q').raw(0).op('h').raw(0).op('a').op('.');
        e = assertThrows(WeightsFormatException.class, () -> TorchCheckpoint.read(archive("c", cyc.bytes(), Map.of())));
        assertTrue(e.getMessage().contains("contains itself"), e.getMessage());
        // memo limit
        TorchCheckpoint.Limits small = new TorchCheckpoint.Limits(100, 1 << 20, 1 << 20, 1 << 20, 2, 8, 8, 100);
        Pickle memo = new Pickle().proto().op(']').op('q').raw(0).op('q').raw(1).op('q').raw(2).op('.');
        e = assertThrows(WeightsFormatException.class, () -> TorchCheckpoint.read(archive("m", memo.bytes(), Map.of()), small));
        assertTrue(e.getMessage().contains("memo"), e.getMessage());
        // string limit
        Pickle longStr = new Pickle().proto().str("x".repeat(101)).op('.');
        e = assertThrows(WeightsFormatException.class, () -> TorchCheckpoint.read(archive("l", longStr.bytes(), Map.of()), small));
        assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());
        // pickle size limit
        TorchCheckpoint.Limits tiny = new TorchCheckpoint.Limits(100, 8, 1 << 20, 1 << 20, 100, 8, 8, 100);
        e = assertThrows(WeightsFormatException.class, () -> TorchCheckpoint.read(archive("t", longStr.bytes(), Map.of()), tiny));
        assertTrue(e.getMessage().contains("limit of 8"), e.getMessage());
    }

    @Test
    void zipWithoutPickleIsRefused() throws IOException {
        Path file = tmp.resolve("nopkl.pth");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            z.putNextEntry(new ZipEntry("x/readme.txt"));
            z.write("hi".getBytes(StandardCharsets.UTF_8));
            z.closeEntry();
        }
        WeightsFormatException e = assertThrows(WeightsFormatException.class, () -> TorchCheckpoint.read(file));
        assertTrue(e.getMessage().contains("data.pkl"), e.getMessage());
    }

    // ---- helpers: a torch.save-like archive and a tiny pickle writer

    private Path archive(String name, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        return Pickle.archive(tmp.resolve(name + ".pth"), name, pickle, storages);
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }
}
