package dev.steer.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.model.ModelConfigException;
import dev.steer.core.testing.Conformance;
import dev.steer.core.tokenizer.TokenizerFormatException;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.onnx.internal.proto.OnnxDim;
import dev.steer.onnx.internal.proto.OnnxModelProto;
import dev.steer.onnx.internal.proto.OnnxValueInfo;
import dev.steer.onnx.internal.proto.ProtoWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Graph loading: external data, clear errors for missing or unusable files, refusal of unusable UNet exports. */
class OnnxLoadingTest {
    @TempDir
    Path tmp;

    private static Path unetFixture() {
        return Conformance.dir("unet-sd1-tiny").resolve("onnx/unet/model.onnx");
    }

    private static UNetOutput runGolden(OnnxUNet unet) {
        try (SafetensorsFile g = Conformance.golden("unet-sd1-tiny")) {
            return unet.forward(OnnxComponentsTest.tensor(g, "input.sample"), new float[] {981, 1},
                    OnnxComponentsTest.tensor(g, "input.encoder_hidden_states"), layer -> true);
        }
    }

    @Test
    void unetWithExternalDataGivesTheSameOutputsAsInline() throws Exception {
        Path dir = tmp.resolve("unet");
        Path graph = TinyOnnxFolders.withExternalData(unetFixture(), dir, "model.onnx_data");
        OnnxModelProto parsed = OnnxModelProto.read(graph);
        assertEquals(List.of("model.onnx_data"), parsed.externalDataFiles());
        assertTrue(Files.size(graph) < Files.size(unetFixture()) - 2_000_000, "weights moved out of the graph");
        byte[] graphBefore = Files.readAllBytes(graph);
        byte[] dataBefore = Files.readAllBytes(dir.resolve("model.onnx_data"));
        try (OnnxUNet inline = OnnxUNet.load(unetFixture()); OnnxUNet external = OnnxUNet.load(graph)) {
            UNetOutput a = runGolden(inline);
            UNetOutput b = runGolden(external);
            assertArrayEquals(a.noise().data(), b.noise().data());
            for (int k = 0; k < a.attention().size(); k++) {
                assertArrayEquals(a.attention().get(k).probabilities().data(), b.attention().get(k).probabilities().data());
            }
            assertEquals(inline.parameterCount(), external.parameterCount());
        }
        // nothing written into or changed in the model folder
        try (var files = Files.list(dir)) {
            assertEquals(List.of("model.onnx", "model.onnx_data"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertArrayEquals(graphBefore, Files.readAllBytes(graph));
        assertArrayEquals(dataBefore, Files.readAllBytes(dir.resolve("model.onnx_data")));
    }

    @Test
    void wholePipelineLoadsFromExternalDataGraphs() throws Exception {
        Path folder = TinyOnnxFolders.create(tmp.resolve("tiny"));
        for (String c : List.of("text_encoder", "unet", "vae_decoder", "vae_encoder")) {
            Path src = tmp.resolve("src-" + c + ".onnx");
            Files.move(folder.resolve(c).resolve("model.onnx"), src);
            TinyOnnxFolders.withExternalData(src, folder.resolve(c), "weights.pb");
        }
        try (OnnxStableDiffusion sd = OnnxStableDiffusion.builder().setModelFolder(folder).build();
             SafetensorsFile g = Conformance.golden("pipeline-tiny")) {
            var schedule = sd.scheduler().schedule(8);
            float[] out = sd.denoise(sd.encodeIds(g.readLongs("input.cond_ids")), sd.encodeIds(g.readLongs("input.uncond_ids")),
                    g.readFloats("input.init_latents"), 16, 16, schedule, 7.5f, null);
            Conformance.assertClose("onnx pipeline (external data) latents.8", g.readFloats("latents.8"), out, 1e-4);
            FloatTensor params = sd.vae().encode(FloatTensor.of(new float[3 * 32 * 32], 1, 3, 32, 32));
            assertEquals(8, params.dim(1));
        }
    }

    @Test
    void missingOrTruncatedExternalDataIsNamed() throws Exception {
        Path dir = tmp.resolve("unet");
        Path graph = TinyOnnxFolders.withExternalData(unetFixture(), dir, "model.onnx_data");
        Path data = dir.resolve("model.onnx_data");
        byte[] full = Files.readAllBytes(data);
        Files.write(data, java.util.Arrays.copyOf(full, full.length / 2));
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> OnnxUNet.load(graph));
        assertTrue(e.getMessage().contains("model.onnx_data") && e.getMessage().contains("truncated"), e.getMessage());
        Files.delete(data);
        e = assertThrows(ModelConfigException.class, () -> OnnxUNet.load(graph));
        assertTrue(e.getMessage().startsWith(data.toAbsolutePath().normalize().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("missing external data file"), e.getMessage());
    }

    @Test
    void externalDataOutsideTheFolderIsRefused() throws Exception {
        Path dir = tmp.resolve("unet");
        Files.createDirectories(dir);
        Path graph = TinyOnnxFolders.withExternalData(unetFixture(), tmp.resolve("elsewhere"), "data.bin");
        byte[] bytes = Files.readAllBytes(graph);
        // same length names: "data.bin" -> "../x.bin" keeps every length prefix valid
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).replace("data.bin", "../d.bin");
        Path moved = dir.resolve("model.onnx");
        Files.write(moved, text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        Files.copy(tmp.resolve("elsewhere/data.bin"), tmp.resolve("d.bin"));
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> OnnxUNet.load(moved));
        assertTrue(e.getMessage().contains("must be a relative path inside"), e.getMessage());
    }

    @Test
    void missingPartsOfTheFolderAreNamed() throws Exception {
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> OnnxStableDiffusion.builder().setModelFolder(tmp.resolve("nowhere")).build());
        assertTrue(e.getMessage().contains("model folder not found"), e.getMessage());

        Path folder = TinyOnnxFolders.create(tmp.resolve("tiny"));
        Files.delete(folder.resolve("unet/model.onnx"));
        e = assertThrows(ModelConfigException.class, () -> OnnxStableDiffusion.builder().setModelFolder(folder).build());
        assertTrue(e.getMessage().startsWith(folder.resolve("unet/model.onnx").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("missing ONNX graph"), e.getMessage());

        Path folder2 = TinyOnnxFolders.create(tmp.resolve("tiny2"));
        Files.delete(folder2.resolve("scheduler/scheduler_config.json"));
        e = assertThrows(ModelConfigException.class, () -> OnnxStableDiffusion.builder().setModelFolder(folder2).build());
        assertTrue(e.getMessage().contains("scheduler_config.json"), e.getMessage());

        Path folder3 = TinyOnnxFolders.create(tmp.resolve("tiny3"));
        Files.delete(folder3.resolve("tokenizer/merges.txt"));
        TokenizerFormatException te = assertThrows(TokenizerFormatException.class,
                () -> OnnxStableDiffusion.builder().setModelFolder(folder3).build());
        assertTrue(te.getMessage().contains("merges.txt"), te.getMessage());

        Path folder4 = TinyOnnxFolders.create(tmp.resolve("tiny4"));
        Files.writeString(folder4.resolve("vae_decoder/model.onnx"), "not a model at all");
        e = assertThrows(ModelConfigException.class, () -> OnnxStableDiffusion.builder().setModelFolder(folder4).build());
        assertTrue(e.getMessage().contains("vae_decoder") && e.getMessage().contains("not a valid ONNX model"), e.getMessage());
    }

    @Test
    void missingEncoderIsReportedWhenEncodingIsAsked() throws Exception {
        Path folder = TinyOnnxFolders.create(tmp.resolve("tiny"));
        Files.delete(folder.resolve("vae_encoder/model.onnx"));
        try (OnnxStableDiffusion sd = OnnxStableDiffusion.builder().setModelFolder(folder).build()) {
            ModelConfigException e = assertThrows(ModelConfigException.class,
                    () -> sd.vae().encode(FloatTensor.of(new float[3 * 32 * 32], 1, 3, 32, 32)));
            assertTrue(e.getMessage().contains("vae_encoder") && e.getMessage().contains("missing VAE encoder"), e.getMessage());
        }
    }

    @Test
    void diffusersFolderGetsAHint() throws Exception {
        Path folder = tmp.resolve("diffusers");
        Files.createDirectories(folder.resolve("unet"));
        Files.createDirectories(folder.resolve("vae"));
        Files.createDirectories(folder.resolve("text_encoder"));
        Files.writeString(folder.resolve("unet/diffusion_pytorch_model.safetensors"), "");
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> OnnxStableDiffusion.builder().setModelFolder(folder).build());
        assertTrue(e.getMessage().contains("diffusers PyTorch folder"), e.getMessage());
    }

    /** A UNet-shaped graph (the three SD inputs) with the given nodes, for the refusal checks (never run). */
    private Path syntheticUNet(String name, ProtoWriter... nodes) throws Exception {
        ProtoWriter graph = new ProtoWriter();
        for (ProtoWriter n : nodes) {
            graph.messageField(1, n);
        }
        graph.stringField(2, "g");
        graph.messageField(11, new OnnxValueInfo("sample", 1, List.of(OnnxDim.symbolic("b"), OnnxDim.fixed(4), OnnxDim.fixed(8),
                OnnxDim.fixed(8))).encode());
        graph.messageField(11, new OnnxValueInfo("timestep", 7, List.of(OnnxDim.symbolic("b"))).encode());
        graph.messageField(11, new OnnxValueInfo("encoder_hidden_states", 1, List.of(OnnxDim.symbolic("b"), OnnxDim.fixed(77),
                OnnxDim.fixed(768))).encode());
        graph.messageField(12, new OnnxValueInfo("out_sample", 1, null).encode());
        ProtoWriter model = new ProtoWriter().varintField(1, 8).messageField(7, graph)
                .messageField(8, new ProtoWriter().stringField(1, "").varintField(2, 17));
        Path file = tmp.resolve(name).resolve("model.onnx");
        Files.createDirectories(file.getParent());
        Files.write(file, model.toByteArray());
        return file;
    }

    private static ProtoWriter node(String name, String op, String domain, String output) {
        ProtoWriter n = new ProtoWriter().stringField(1, "x").stringField(2, output).stringField(3, name).stringField(4, op);
        return domain.isEmpty() ? n : n.stringField(7, domain);
    }

    @Test
    void fusedAttentionIsRefusedWithExportAdvice() throws Exception {
        Path file = syntheticUNet("fused", node("/down_blocks.0/attentions.0/transformer_blocks.0/attn2/MultiHeadAttention",
                "MultiHeadAttention", "com.microsoft", "a"));
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> OnnxUNet.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("fuses attention"), e.getMessage());
        assertTrue(e.getMessage().contains("com.microsoft.MultiHeadAttention"), e.getMessage());
        assertTrue(e.getMessage().contains("attn2/Softmax") && e.getMessage().contains("--no-post-process")
                && e.getMessage().contains("torch.onnx.export"), e.getMessage());
    }

    @Test
    void unidentifiableCrossAttentionIsRefused() throws Exception {
        Path file = syntheticUNet("anonymous", node("", "Softmax", "", "softmax_17"), node("node_3", "Softmax", "", "softmax_18"));
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> OnnxUNet.load(file));
        assertTrue(e.getMessage().contains("no cross-attention Softmax nodes found"), e.getMessage());
        assertTrue(e.getMessage().contains("--no-post-process"), e.getMessage());

        Path sliced = syntheticUNet("sliced", node("/mid_block/attentions.0/transformer_blocks.0/attn2/Softmax", "Softmax", "", "s1"),
                node("/mid_block/attentions.0/transformer_blocks.0/attn2/Softmax_1", "Softmax", "", "s2"));
        e = assertThrows(ModelConfigException.class, () -> OnnxUNet.load(sliced));
        assertTrue(e.getMessage().contains("attention slicing"), e.getMessage());
    }

    @Test
    void selfAttentionFusionAloneIsNotACrossAttentionProblem() {
        // attn1 fused, attn2 plain: the taps are found (the graph is never run here)
        var nodes = List.of(
                new dev.steer.onnx.internal.proto.OnnxNode(0, "/down_blocks.0/attentions.0/transformer_blocks.0/attn1/MultiHeadAttention",
                        "MultiHeadAttention", "com.microsoft", List.of(), List.of("a")),
                new dev.steer.onnx.internal.proto.OnnxNode(1, "/down_blocks.0/attentions.0/transformer_blocks.0/attn2/Softmax", "Softmax", "",
                        List.of(), List.of("b")));
        assertEquals("down_blocks.0.attentions.0.transformer_blocks.0.attn2",
                CrossAttentionTaps.attn2Module(nodes.get(1)));
        assertEquals(null, CrossAttentionTaps.attn2Module(nodes.get(0)));
        assertEquals("up_blocks.1.attentions.2.transformer_blocks.0.attn2",
                CrossAttentionTaps.attn2Module("/unet/up_blocks.1/attentions.2/transformer_blocks.0/attn2/Softmax"));
    }

    @Test
    void aTextEncoderIsNotAUNet() {
        Path text = Conformance.dir("clip-sd1-tiny").resolve("onnx/text_encoder/model.onnx");
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> OnnxUNet.load(text));
        assertTrue(e.getMessage().contains("sample, timestep and encoder_hidden_states"), e.getMessage());
    }
}
