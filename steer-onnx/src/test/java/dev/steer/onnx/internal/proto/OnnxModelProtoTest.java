package dev.steer.onnx.internal.proto;

import dev.steer.onnx.ProtoFormatException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.testing.Conformance;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OnnxModelProtoTest {
    private static final List<String> FIXTURES = List.of("clip-sd1-tiny/onnx/text_encoder/model.onnx", "unet-sd1-tiny/onnx/unet/model.onnx",
            "vae-tiny/onnx/vae_decoder/model.onnx", "vae-tiny/onnx/vae_encoder/model.onnx");

    private static Path fixture(String rel) {
        return Conformance.testdata().resolve("conformance").resolve(rel);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void rewriteWithoutChangesIsByteIdentical() throws Exception {
        for (String f : FIXTURES) {
            byte[] original = Files.readAllBytes(fixture(f));
            OnnxModelProto model = OnnxModelProto.read(fixture(f));
            assertArrayEquals(original, bytes(model.rewrite(new GraphEdit())), f);
            assertArrayEquals(original, bytes(model.rewrite(new GraphEdit(), ByteBuffer::allocate)), f);
        }
    }

    @Test
    void readsTheUNetsDeclarationsAndNodes() throws Exception {
        OnnxModelProto unet = OnnxModelProto.read(fixture("unet-sd1-tiny/onnx/unet/model.onnx"));
        assertEquals(7, unet.irVersion());
        assertEquals("pytorch", unet.producer());
        assertEquals(14L, unet.opsets().get(""));
        assertEquals(List.of("sample", "timestep", "encoder_hidden_states"), unet.inputs().stream().map(OnnxValueInfo::name).toList());
        OnnxValueInfo sample = unet.inputs().get(0);
        assertEquals(OnnxElementType.FLOAT, sample.elemType());
        assertEquals(List.of(OnnxDim.symbolic("batch"), OnnxDim.fixed(4), OnnxDim.fixed(16), OnnxDim.fixed(16)), sample.dims());
        assertEquals(OnnxElementType.INT64, unet.inputs().get(1).elemType());
        assertEquals("out_sample", unet.outputs().get(0).name());
        assertEquals(5482, unet.nodes().size());
        assertEquals(494, unet.initializers().size());
        assertTrue(unet.externalDataFiles().isEmpty());
        long softmax = unet.nodes().stream().filter(n -> n.opType().equals("Softmax")).count();
        assertEquals(22, softmax);
        OnnxNode first = unet.nodes().stream().filter(n -> n.name().endsWith("attn2/Softmax")).findFirst().orElseThrow();
        assertEquals("/down_blocks.0/attentions.0/transformer_blocks.0/attn2/Softmax", first.name());
        assertEquals(List.of("/down_blocks.0/attentions.0/transformer_blocks.0/attn2/Softmax_output_0"), first.outputs());
        assertTrue(first.isStandardDomain());
        for (int i = 0; i < unet.nodes().size(); i++) {
            assertEquals(i, unet.nodes().get(i).index());
        }
    }

    @Test
    void retypedAndAddedOutputsParseBackAndEverythingElseIsUnchanged() throws Exception {
        Path file = fixture("unet-sd1-tiny/onnx/unet/model.onnx");
        OnnxModelProto model = OnnxModelProto.read(file);
        OnnxValueInfo relaxed = new OnnxValueInfo("sample", OnnxElementType.FLOAT,
                List.of(OnnxDim.symbolic("batch"), OnnxDim.fixed(4), OnnxDim.symbolic("h"), OnnxDim.symbolic("w")));
        OnnxValueInfo extra = new OnnxValueInfo("/mid_block/attentions.0/transformer_blocks.0/attn2/Softmax_output_0", 0, null);
        OnnxModelProto edited = OnnxModelProto.parse(model.rewrite(new GraphEdit().retype(relaxed).addOutput(extra)));
        assertEquals(relaxed, edited.inputs().get(0));
        assertEquals(model.inputs().subList(1, 3), edited.inputs().subList(1, 3));
        assertEquals(2, edited.outputs().size());
        assertEquals(model.outputs().get(0), edited.outputs().get(0));
        assertEquals(extra.name(), edited.outputs().get(1).name());
        assertEquals(0, edited.outputs().get(1).elemType());
        assertNull(edited.outputs().get(1).dims());
        assertEquals(model.nodes(), edited.nodes());
        assertEquals(model.initializers().size(), edited.initializers().size());
        assertEquals(model.opsets(), edited.opsets());
        assertThrows(IllegalArgumentException.class,
                () -> model.rewrite(new GraphEdit().retype(new OnnxValueInfo("no_such_input", 1, null))));
    }

    @Test
    void unknownFieldsSurviveInTheirOrder() {
        ProtoWriter node = new ProtoWriter().stringField(1, "x").stringField(2, "y").stringField(3, "n").stringField(4, "Relu")
                .varintField(42, 7);
        ProtoWriter input = new OnnxValueInfo("x", 1, List.of(OnnxDim.fixed(2))).encode();
        ProtoWriter output = new OnnxValueInfo("y", 1, List.of(OnnxDim.fixed(2))).encode().stringField(3, "doc of y");
        ProtoWriter graph = new ProtoWriter().messageField(1, node).stringField(2, "g").stringField(77, "unknown graph field")
                .messageField(11, input).messageField(12, output).key(99, ProtoReader.I32).raw(new byte[] {1, 2, 3, 4});
        ProtoWriter model = new ProtoWriter().varintField(1, 8).stringField(2, "test").messageField(7, graph)
                .messageField(8, new ProtoWriter().stringField(1, "").varintField(2, 17))
                .messageField(14, new ProtoWriter().stringField(1, "key").stringField(2, "value"));
        byte[] original = model.toByteArray();
        OnnxModelProto parsed = OnnxModelProto.parse(ByteBuffer.wrap(original));
        assertEquals("g", parsed.graphName());
        assertEquals(17L, parsed.opsets().get(""));
        OnnxValueInfo y3 = new OnnxValueInfo("y", 1, List.of(OnnxDim.fixed(3)));
        byte[] rewritten = bytes(parsed.rewrite(new GraphEdit().retype(y3)));
        OnnxModelProto back = OnnxModelProto.parse(ByteBuffer.wrap(rewritten));
        assertEquals(y3, back.outputs().get(0));
        // the retyped output keeps its doc string; the graph's unknown fields and the model's metadata stay in place
        List<Integer> graphFields = new ArrayList<>();
        ProtoReader m = new ProtoReader(ByteBuffer.wrap(rewritten), 0, rewritten.length);
        List<Integer> modelFields = new ArrayList<>();
        while (m.next()) {
            modelFields.add(m.number());
            if (m.number() == 7) {
                ProtoReader g = m.message();
                while (g.next()) {
                    graphFields.add(g.number());
                    if (g.number() == 12) {
                        ProtoReader v = g.message();
                        List<Integer> vf = new ArrayList<>();
                        while (v.next()) {
                            vf.add(v.number());
                            if (v.number() == 3) {
                                assertEquals("doc of y", v.string());
                            }
                        }
                        assertEquals(List.of(1, 2, 3), vf);
                    }
                }
            }
        }
        assertEquals(List.of(1, 2, 7, 8, 14), modelFields);
        assertEquals(List.of(1, 2, 77, 11, 12, 99), graphFields);
        assertEquals(original.length + 0, rewritten.length); // same dims byte count: 2 -> 3
    }

    @Test
    void varintsRoundTripIncludingNegativeInt64() {
        long[] values = {0, 1, 127, 128, 300, Integer.MAX_VALUE, Long.MAX_VALUE, -1, Long.MIN_VALUE};
        ProtoWriter w = new ProtoWriter();
        for (long v : values) {
            w.varintField(1, v);
        }
        byte[] b = w.toByteArray();
        ProtoReader r = new ProtoReader(ByteBuffer.wrap(b), 0, b.length);
        for (long v : values) {
            assertTrue(r.next());
            assertEquals(v, r.varint());
        }
        assertFalse(r.next());
        assertEquals(10, ProtoWriter.varintSize(-1));
    }

    @Test
    void malformedMessagesAreErrorsWithTheOffset() {
        byte[] model = new ProtoWriter().messageField(7, new ProtoWriter().stringField(2, "graph")).toByteArray();
        byte[] truncated = java.util.Arrays.copyOf(model, model.length - 2);
        ProtoFormatException e = assertThrows(ProtoFormatException.class, () -> OnnxModelProto.parse(ByteBuffer.wrap(truncated)));
        assertTrue(e.getMessage().contains("runs past the end"), e.getMessage());
        byte[] group = {(byte) ((5 << 3) | 3)};
        e = assertThrows(ProtoFormatException.class, () -> OnnxModelProto.parse(ByteBuffer.wrap(group)));
        assertTrue(e.getMessage().contains("wire type 3"), e.getMessage());
        byte[] noGraph = new ProtoWriter().varintField(1, 7).toByteArray();
        e = assertThrows(ProtoFormatException.class, () -> OnnxModelProto.parse(ByteBuffer.wrap(noGraph)));
        assertTrue(e.getMessage().contains("no graph"), e.getMessage());
        byte[] badVarint = new byte[12];
        java.util.Arrays.fill(badVarint, (byte) 0xff);
        assertThrows(ProtoFormatException.class, () -> OnnxModelProto.parse(ByteBuffer.wrap(badVarint)));
    }

    @Test
    void readsExternalDataReferences() {
        ProtoWriter tensor = new ProtoWriter().varintField(1, 3).varintField(1, 4).varintField(2, OnnxElementType.FLOAT).stringField(8, "w")
                .messageField(13, new ProtoWriter().stringField(1, "location").stringField(2, "weights.bin"))
                .messageField(13, new ProtoWriter().stringField(1, "offset").stringField(2, "128"))
                .messageField(13, new ProtoWriter().stringField(1, "length").stringField(2, "48"))
                .varintField(14, 1);
        ProtoWriter packedDims = new ProtoWriter().key(1, ProtoReader.LEN).varint(2).varint(5).varint(6).stringField(8, "v")
                .varintField(2, OnnxElementType.FLOAT);
        byte[] model = new ProtoWriter().messageField(7, new ProtoWriter().messageField(5, tensor).messageField(5, packedDims)).toByteArray();
        OnnxModelProto p = OnnxModelProto.parse(ByteBuffer.wrap(model));
        OnnxInitializer w = p.initializers().get(0);
        assertArrayEquals(new long[] {3, 4}, w.dims());
        assertEquals("weights.bin", w.externalLocation());
        assertEquals(128, w.externalOffset());
        assertEquals(48, w.externalLength());
        OnnxInitializer v = p.initializers().get(1);
        assertArrayEquals(new long[] {5, 6}, v.dims());
        assertFalse(v.isExternal());
        assertEquals(List.of("weights.bin"), p.externalDataFiles());
    }
}
