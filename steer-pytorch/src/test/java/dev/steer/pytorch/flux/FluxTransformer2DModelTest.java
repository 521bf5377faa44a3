package dev.steer.pytorch.flux;

import static dev.steer.core.testing.Conformance.assertClose;
import static dev.steer.core.testing.Conformance.assertRelL2;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.internal.flux.FluxLatents;
import dev.steer.core.model.FluxTransformerConfig;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.pytorch.attention.TorchAttentionProbe;
import dev.steer.pytorch.testing.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FluxTransformer2DModelTest {
    private static final int GRID = 8;
    private static final int TEXT = 12;
    private static NDManager manager;
    private static FluxTransformer2DModel model;
    private static SafetensorsFile golden;

    @BeforeAll
    static void load() {
        manager = NDManager.newBaseManager();
        model = TinyModels.fluxTransformer(manager);
        golden = Conformance.golden("flux-transformer-tiny");
    }

    @AfterAll
    static void close() {
        golden.close();
        manager.close();
    }

    private static NDArray input(NDManager m, String name) {
        return m.create(golden.readFloats(name), new Shape(golden.info(name).shape()));
    }

    private static float[] scalar(String name) {
        return golden.readFloats(name);
    }

    @Test
    void packingAndPositionIdsAreThePipelines() {
        assertArrayEquals(golden.readFloats("input.hidden_states"),
                FluxLatents.pack(golden.readFloats("input.latents_unpacked"), 1, 16, 2 * GRID, 2 * GRID));
        assertArrayEquals(golden.readFloats("input.latents_unpacked"),
                FluxLatents.unpack(golden.readFloats("input.hidden_states"), 1, 16, 2 * GRID, 2 * GRID));
        assertArrayEquals(golden.readFloats("input.img_ids"), FluxLatents.imageIds(GRID, GRID));
        float[] joint = FluxLatents.jointIds(TEXT, GRID, GRID);
        float[] txt = golden.readFloats("input.txt_ids");
        assertArrayEquals(txt, java.util.Arrays.copyOf(joint, txt.length));
    }

    @Test
    void forwardMatchesReferenceVelocityAndEveryBlocksImageToTextMaps() {
        try (NDManager scope = manager.newSubManager()) {
            // one word per text token: the probe then holds every token's map, as the golden does
            List<int[]> words = new ArrayList<>();
            for (int t = 0; t < TEXT; t++) {
                words.add(new int[] {t});
            }
            TorchAttentionProbe probe = new TorchAttentionProbe(words, GRID, false);
            List<CrossAttentionLayer> seen = new ArrayList<>();
            JointAttentionHook hook = probe.asJointHook(0);
            NDArray out = model.forward(input(scope, "input.hidden_states"), input(scope, "input.encoder_hidden_states"),
                    input(scope, "input.pooled_projections"), scalar("input.timestep"), scalar("input.guidance"), GRID, GRID,
                    (layer, t, h, w, probs, call) -> {
                        seen.add(layer);
                        hook.onJointAttention(layer, t, h, w, probs, call);
                    });
            assertClose("flux output.sample", golden.readFloats("output.sample"), out.toFloatArray(), 1e-4);
            assertEquals(model.crossAttentionLayers(), seen);
            float[] maps = probe.classifierMaps(); // [words, blocks * heads, 8, 8]
            int heads = 2;
            int blocks = 4;
            int px = GRID * GRID;
            for (int k = 0; k < blocks; k++) {
                float[] expected = golden.readFloats("attn." + k); // [heads, T, 8, 8]
                float[] actual = new float[expected.length];
                for (int h = 0; h < heads; h++) {
                    for (int t = 0; t < TEXT; t++) {
                        System.arraycopy(maps, ((t * blocks + k) * heads + h) * px, actual, (h * TEXT + t) * px, px);
                    }
                }
                assertClose("flux attn." + k, expected, actual, 1e-5);
            }
        }
    }

    @Test
    void blockNamesFollowTheReferencesExecutionOrder() throws Exception {
        String json = Files.readString(Conformance.dir("flux-transformer-tiny").resolve("attn_names.json"));
        List<String> expected = new ArrayList<>();
        for (var e : com.google.gson.JsonParser.parseString(json).getAsJsonArray()) {
            expected.add(e.getAsString());
        }
        assertEquals(expected, model.crossAttentionLayers().stream().map(CrossAttentionLayer::name).toList());
    }

    @Test
    void gradientOfAMapLossWithRespectToTheLatentMatchesReference() {
        try (NDManager scope = manager.newSubManager()) {
            NDArray latents = input(scope, "input.hidden_states");
            latents.setRequiresGradient(true);
            TorchAttentionProbe probe = new TorchAttentionProbe(List.of(new int[] {1}), GRID, false);
            float[] xs = new float[GRID * GRID];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = -1f + 2f * (i % GRID) / (GRID - 1);
            }
            float loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                model.forward(latents, input(scope, "input.encoder_hidden_states"), input(scope, "input.pooled_projections"),
                        scalar("input.timestep"), scalar("input.guidance"), GRID, GRID, probe.asJointHook(0));
                NDArray maps = probe.classifierInput(); // [1, 4 blocks * 2 heads, 8, 8]
                NDArray total = maps.reshape(8, GRID * GRID).mul(scope.create(xs)).sum().div(scope.create(2f));
                loss = total.getFloat();
                gc.backward(total);
            }
            assertClose("flux grad.loss", golden.readFloats("grad.loss"), new float[] {loss}, 1e-4);
            assertRelL2("flux grad.hidden_states", golden.readFloats("grad.hidden_states"), latents.getGradient().toFloatArray(), 1e-3);
        }
    }

    @Test
    void aCallLeavesNothingInThePromptsScope() {
        // as the engine calls it: the prompt encoded once in the generation's scope, each call in a sub-scope
        try (NDManager generation = manager.newSubManager()) {
            FluxPrompt prompt = new FluxPrompt(input(generation, "input.encoder_hidden_states"), input(generation, "input.pooled_projections"));
            FluxDenoiser denoiser = new FluxDenoiser(model);
            int before = ((ai.djl.ndarray.BaseNDManager) generation).getManagedArrays().size();
            for (boolean withGradient : new boolean[] {false, true}) {
                try (NDManager call = generation.newSubManager()) {
                    NDArray latents = call.create(golden.readFloats("input.latents_unpacked"), new Shape(1, 16, 2 * GRID, 2 * GRID));
                    TorchAttentionProbe probe = new TorchAttentionProbe(List.of(new int[] {1}), GRID, false);
                    if (withGradient) {
                        latents.setRequiresGradient(true);
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            denoiser.velocity(latents, prompt, 500f, scalar("input.guidance")[0], probe.asJointHook(0));
                            gc.backward(probe.classifierInput().sum());
                        }
                    } else {
                        denoiser.velocity(latents, prompt, 500f, scalar("input.guidance")[0], null).toFloatArray();
                    }
                }
                assertEquals(before, ((ai.djl.ndarray.BaseNDManager) generation).getManagedArrays().size(),
                        "arrays left in the prompt's scope by a call " + (withGradient ? "with" : "without") + " gradients");
            }
        }
    }

    @Test
    void mapsOfASingleObservedBlockStillCarryTheGradient() {
        // a probe that observes one block (a one-block model, or a layer filter) concatenates one part
        try (NDManager scope = manager.newSubManager()) {
            NDArray latents = input(scope, "input.hidden_states");
            latents.setRequiresGradient(true);
            TorchAttentionProbe probe = TorchAttentionProbe.ofLayers(List.of(new int[] {1}, new int[] {2, 3}), java.util.Set.of(0));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                model.forward(latents, input(scope, "input.encoder_hidden_states"), input(scope, "input.pooled_projections"),
                        scalar("input.timestep"), scalar("input.guidance"), GRID, GRID, probe.asJointHook(0));
                NDArray maps = probe.classifierInput();
                assertEquals(new Shape(2, 2, 16, 16), maps.getShape()); // the default probe resizes to 16
                gc.backward(maps.mul(maps).sum());
            }
            org.junit.jupiter.api.Assertions.assertTrue(latents.getGradient().abs().sum().getFloat() > 0, "no gradient reached the latent");
        }
    }

    @Test
    void guidanceIsRequiredByDevAndRefusedBySchnell() {
        try (NDManager scope = manager.newSubManager()) {
            assertThrows(IllegalArgumentException.class, () -> model.forward(input(scope, "input.hidden_states"),
                    input(scope, "input.encoder_hidden_states"), input(scope, "input.pooled_projections"), scalar("input.timestep"),
                    null, GRID, GRID, null));
        }
    }

    @Test
    void configsTheLibraryDoesNotImplementAreRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("config.json");
        String base = Files.readString(Conformance.dir("flux-transformer-tiny").resolve("transformer/config.json"));
        Files.writeString(cfg, base.replace("\"patch_size\": 1", "\"patch_size\": 2"));
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> FluxTransformerConfig.load(cfg));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains(cfg.toString()) && e.getMessage().contains("patch_size"),
                e.getMessage());
        Files.writeString(cfg, base.replace("\"axes_dims_rope\": [\n    2,\n    2,\n    4\n  ]", "\"axes_dims_rope\": [2, 2, 2]"));
        e = assertThrows(ModelConfigException.class, () -> FluxTransformerConfig.load(cfg));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("axes_dims_rope"), e.getMessage());
        Files.writeString(cfg, base.replace("FluxTransformer2DModel", "SD3Transformer2DModel"));
        assertThrows(ModelConfigException.class, () -> FluxTransformerConfig.load(cfg));
    }

    @Test
    void float16ComputeStaysCloseToFloat32AndHandsFloat32Out() {
        try (NDManager scope = manager.newSubManager()) {
            FluxPrompt prompt = new FluxPrompt(input(scope, "input.encoder_hidden_states"), input(scope, "input.pooled_projections"));
            NDArray latents = scope.create(golden.readFloats("input.latents_unpacked"), new Shape(1, 16, 2 * GRID, 2 * GRID));
            float t = golden.readFloats("input.timestep")[0] * 1000f;
            float g = golden.readFloats("input.guidance")[0];
            TorchAttentionProbe full = new TorchAttentionProbe(List.of(new int[] {1}), GRID, false);
            TorchAttentionProbe half = new TorchAttentionProbe(List.of(new int[] {1}), GRID, false);
            NDArray exact = new FluxDenoiser(model).velocity(latents, prompt, t, g, full.asJointHook(0));
            NDArray approx = new FluxDenoiser(model, ai.djl.ndarray.types.DataType.FLOAT16).velocity(latents, prompt, t, g,
                    half.asJointHook(0));
            assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, approx.getDataType());
            double d = Conformance.maxAbsDiff(exact.toFloatArray(), approx.toFloatArray());
            org.junit.jupiter.api.Assertions.assertTrue(d < 2e-2, "float16 velocity off by " + d);
            double m = Conformance.maxAbsDiff(full.classifierMaps(), half.classifierMaps());
            org.junit.jupiter.api.Assertions.assertTrue(m < 2e-3, "float16 maps off by " + m);
        }
    }
}
