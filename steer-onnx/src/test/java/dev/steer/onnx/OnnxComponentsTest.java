package dev.steer.onnx;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fixtures' ONNX exports reproduce the goldens the PyTorch backend reproduces. */
class OnnxComponentsTest {

    static FloatTensor tensor(SafetensorsFile g, String name) {
        return new FloatTensor(g.info(name).shape(), g.readFloats(name));
    }

    @Test
    void textEncoderMatchesLastHiddenState() {
        Path file = Conformance.dir("clip-sd1-tiny").resolve("onnx/text_encoder/model.onnx");
        try (SafetensorsFile g = Conformance.golden("clip-sd1-tiny"); OnnxTextEncoder te = OnnxTextEncoder.load(file)) {
            long[] ids = g.readLongs("input.ids");
            long[][] batch = {Arrays.copyOfRange(ids, 0, 77), Arrays.copyOfRange(ids, 77, 154)};
            FloatTensor out = te.encode(batch);
            assertEquals(List.of(2L, 77L, 32L), Arrays.stream(out.shape()).boxed().toList());
            assertClose("onnx text_encoder last_hidden_state", g.readFloats("output.last_hidden_state"), out.data(), 1e-4);
            assertEquals(1000, te.vocabSize());
        }
    }

    @Test
    void unetMatchesNoisePredictionAndEveryCrossAttentionMap() throws Exception {
        Path file = Conformance.dir("unet-sd1-tiny").resolve("onnx/unet/model.onnx");
        try (SafetensorsFile g = Conformance.golden("unet-sd1-tiny"); OnnxUNet unet = OnnxUNet.load(file)) {
            long[] t = g.readLongs("input.timesteps");
            float[] ts = new float[t.length];
            for (int i = 0; i < t.length; i++) {
                ts[i] = t[i];
            }
            UNetOutput out = unet.forward(tensor(g, "input.sample"), ts, tensor(g, "input.encoder_hidden_states"), layer -> true);
            assertClose("onnx unet output.sample", g.readFloats("output.sample"), out.noise().data(), 1e-4);
            assertEquals(11, out.attention().size());
            for (int k = 0; k < 11; k++) {
                CrossAttentionOutput a = out.attention().get(k);
                assertClose("onnx unet attn." + k + " " + a.layer().name(), g.readFloats("attn." + k), a.probabilities().data(), 1e-4);
                assertEquals(Arrays.stream(g.info("attn." + k).shape()).reduce(1, (x, y) -> x * y), a.probabilities().size());
            }
            String json = Files.readString(Conformance.dir("unet-sd1-tiny").resolve("attn_names.json"));
            List<String> expected = new ArrayList<>();
            for (var e : com.google.gson.JsonParser.parseString(json).getAsJsonArray()) {
                expected.add(e.getAsString().replace(".processor", ""));
            }
            assertEquals(expected, unet.crossAttentionLayers().stream().map(CrossAttentionLayer::name).toList());
            int[] downscales = {1, 1, 2, 2, 4, 2, 2, 2, 1, 1, 1};
            for (CrossAttentionLayer l : unet.crossAttentionLayers()) {
                assertEquals(4, l.heads(), l.name());
                assertEquals(downscales[l.index()], l.downscale(), l.name());
                CrossAttentionOutput a = out.attention().get(l.index());
                assertEquals(16 / l.downscale(), a.height());
                assertEquals(16 / l.downscale(), a.width());
            }
        }
    }

    @Test
    void vaeDecodesAndEncodes() {
        Path dir = Conformance.dir("vae-tiny").resolve("onnx");
        try (SafetensorsFile g = Conformance.golden("vae-tiny");
             OnnxVae vae = OnnxVae.load(dir.resolve("vae_decoder/model.onnx"), dir.resolve("vae_encoder/model.onnx"))) {
            assertEquals(4, vae.scaleFactor());
            FloatTensor image = vae.decode(tensor(g, "input.latents"));
            assertClose("onnx vae output.image", g.readFloats("output.image"), image.data(), 1e-4);
            FloatTensor params = vae.encode(tensor(g, "input.image"));
            assertEquals(8, params.dim(1));
            int half = params.size() / 2;
            assertClose("onnx vae output.latent_mean", g.readFloats("output.latent_mean"), Arrays.copyOfRange(params.data(), 0, half), 1e-4);
            assertClose("onnx vae output.latent_logvar", g.readFloats("output.latent_logvar"),
                    Arrays.copyOfRange(params.data(), half, params.size()), 1e-4);
        }
    }
}
