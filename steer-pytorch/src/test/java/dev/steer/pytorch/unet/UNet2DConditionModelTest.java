package dev.steer.pytorch.unet;

import dev.steer.pytorch.testing.TinyModels;

import static dev.steer.core.testing.Conformance.assertClose;
import static dev.steer.core.testing.Conformance.assertRelL2;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class UNet2DConditionModelTest {
    private static NDManager manager;
    private static UNet2DConditionModel unet;
    private static SafetensorsFile golden;

    @BeforeAll
    static void load() {
        manager = NDManager.newBaseManager();
        unet = TinyModels.unet(manager);
        golden = Conformance.golden("unet-sd1-tiny");
    }

    @AfterAll
    static void close() {
        golden.close();
        manager.close();
    }

    private static NDArray input(NDManager m, String name) {
        return m.create(golden.readFloats(name), new Shape(golden.info(name).shape()));
    }

    @Test
    void forwardMatchesReferenceNoisePredictionAndEveryCrossAttentionMap() {
        try (NDManager scope = manager.newSubManager()) {
            NDArray sample = input(scope, "input.sample");
            NDArray t = scope.create(golden.readLongs("input.timesteps"));
            NDArray ctx = input(scope, "input.encoder_hidden_states");
            List<float[]> maps = new ArrayList<>();
            List<CrossAttentionLayer> layers = new ArrayList<>();
            NDArray out = unet.forward(sample, t, ctx, (layer, h, w, probs) -> {
                layers.add(layer);
                maps.add(probs.toFloatArray());
            });
            assertClose("unet output.sample", golden.readFloats("output.sample"), out.toFloatArray(), 1e-4);
            assertEquals(11, maps.size());
            assertEquals(unet.crossAttentionLayers(), layers);
            for (int k = 0; k < maps.size(); k++) {
                assertClose("unet attn." + k + " " + layers.get(k).name(), golden.readFloats("attn." + k), maps.get(k), 1e-4);
            }
        }
    }

    @Test
    void layerNamesFollowExecutionOrderOfTheReference() throws Exception {
        String json = java.nio.file.Files.readString(Conformance.dir("unet-sd1-tiny").resolve("attn_names.json"));
        List<String> expected = new ArrayList<>();
        for (var e : com.google.gson.JsonParser.parseString(json).getAsJsonArray()) {
            expected.add(e.getAsString().replace(".processor", ""));
        }
        assertEquals(expected, unet.crossAttentionLayers().stream().map(CrossAttentionLayer::name).toList());
    }

    @Test
    void gradientOfAttentionLossWithRespectToSampleMatchesReference() {
        try (NDManager scope = manager.newSubManager()) {
            NDArray sample = input(scope, "input.sample");
            NDArray t = scope.create(golden.readLongs("input.timesteps"));
            NDArray ctx = input(scope, "input.encoder_hidden_states");
            sample.setRequiresGradient(true);
            float[] loss = new float[1];
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray[] total = new NDArray[1];
                unet.forward(sample, t, ctx, (layer, h, w, probs) -> {
                    // probs [B, heads, h*w, T]; loss term: sum(probs[..., 1] * x_coord) / (B*heads)
                    float[] xs = new float[h * w];
                    for (int i = 0; i < h * w; i++) {
                        int x = i % w;
                        xs[i] = w == 1 ? 0f : -1f + 2f * x / (w - 1);
                    }
                    long bh = probs.getShape().get(0) * probs.getShape().get(1);
                    NDArray token1 = probs.get(":, :, :, 1");
                    NDArray term = token1.mul(scope.create(xs)).sum().div(bh);
                    total[0] = total[0] == null ? term : total[0].add(term);
                });
                loss[0] = total[0].getFloat();
                gc.backward(total[0]);
            }
            assertClose("unet grad.loss", golden.readFloats("grad.loss"), loss, 1e-4);
            assertRelL2("unet grad.sample", golden.readFloats("grad.sample"), sample.getGradient().toFloatArray(), 1e-3);
        }
    }
}
