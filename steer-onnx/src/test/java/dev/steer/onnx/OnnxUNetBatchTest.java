package dev.steer.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The UNet runner's batching, broadcasting and output selection (what forward-only steering will need). */
class OnnxUNetBatchTest {
    private static OnnxUNet unet;
    private static FloatTensor context;
    private static FloatTensor sample;

    @BeforeAll
    static void load() {
        unet = OnnxUNet.load(Conformance.dir("unet-sd1-tiny").resolve("onnx/unet/model.onnx"));
        try (SafetensorsFile g = Conformance.golden("unet-sd1-tiny")) {
            context = OnnxComponentsTest.tensor(g, "input.encoder_hidden_states").batchItem(1);
            sample = OnnxComponentsTest.tensor(g, "input.sample").batchItem(0);
        }
    }

    @AfterAll
    static void close() {
        unet.close();
    }

    private static double maxDiff(float[] a, float[] b, int offset) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[offset + i]));
        }
        return m;
    }

    @Test
    void layersAreKnownBeforeAnyCallThroughCalibration() {
        try (OnnxUNet fresh = OnnxUNet.load(unet.file())) {
            List<CrossAttentionLayer> layers = fresh.crossAttentionLayers();
            assertEquals(11, layers.size());
            assertEquals(unet.crossAttentionModules(), layers.stream().map(CrossAttentionLayer::name).toList());
            assertEquals(List.of(1, 1, 2, 2, 4, 2, 2, 2, 1, 1, 1), layers.stream().map(CrossAttentionLayer::downscale).toList());
        }
    }

    @Test
    void aBatchOfPerturbedLatentsMatchesSingleCalls() {
        int n = 3;
        int per = sample.size();
        float[] batch = new float[n * per];
        Random rnd = new Random(5);
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < per; i++) {
                batch[b * per + i] = sample.data()[i] + (b == 0 ? 0f : 0.01f * (float) rnd.nextGaussian());
            }
        }
        float[] timesteps = {981, 500, 1};
        UNetOutput together = unet.forward(FloatTensor.of(batch, n, 4, 16, 16), timesteps, context, layer -> true);
        assertEquals(n, together.noise().dim(0));
        for (int b = 0; b < n; b++) {
            FloatTensor single = FloatTensor.of(java.util.Arrays.copyOfRange(batch, b * per, (b + 1) * per), 1, 4, 16, 16);
            UNetOutput alone = unet.forward(single, new float[] {timesteps[b]}, context, layer -> true);
            assertTrue(maxDiff(alone.noise().data(), together.noise().data(), b * per) < 1e-5, "item " + b);
            for (int k = 0; k < 11; k++) {
                float[] a = alone.attention().get(k).item(0);
                assertTrue(maxDiff(a, together.attention().get(k).item(b), 0) < 1e-5, "item " + b + " layer " + k);
            }
        }
    }

    @Test
    void attentionIsFetchedOnlyWhenAskedAndOnlyForTheLayersAsked() {
        UNetOutput none = unet.forward(sample, new float[] {500}, context);
        assertTrue(none.attention().isEmpty());
        UNetOutput some = unet.forward(sample, new float[] {500}, context, layer -> layer.downscale() == 2);
        assertEquals(List.of(2, 3, 5, 6, 7), some.attention().stream().map(a -> a.layer().index()).toList());
        CrossAttentionOutput a = some.attention().get(0);
        assertEquals(8, a.height());
        assertEquals(8, a.width());
        assertEquals(List.of(1L, 4L, 64L, 8L), java.util.Arrays.stream(a.probabilities().shape()).boxed().toList());
        // rows are probability distributions over the tokens
        float[] p = a.item(0);
        for (int row = 0; row < p.length / 8; row++) {
            double s = 0;
            for (int t = 0; t < 8; t++) {
                s += p[row * 8 + t];
            }
            assertEquals(1.0, s, 1e-5);
        }
        float[] same = unet.forward(sample, new float[] {500}, context, layer -> true).noise().data();
        assertTrue(maxDiff(none.noise().data(), same, 0) == 0, "fetching attention does not change the prediction");
    }

    @Test
    void selectedTokenColumnsEqualTheFullProbabilities() {
        int[] tokens = {5, 2, 6};
        UNetOutput full = unet.forward(sample, new float[] {500}, context, layer -> true);
        UNetOutput selected = unet.forward(sample, new float[] {500}, context, layer -> true, tokens);
        assertEquals(full.attention().size(), selected.attention().size());
        assertTrue(maxDiff(full.noise().data(), selected.noise().data(), 0) == 0);
        for (int k = 0; k < full.attention().size(); k++) {
            FloatTensor f = full.attention().get(k).probabilities();
            FloatTensor s = selected.attention().get(k).probabilities();
            assertEquals(3, s.dim(3));
            int rows = f.size() / f.dim(3);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < tokens.length; c++) {
                    assertEquals(f.data()[r * f.dim(3) + tokens[c]], s.data()[r * 3 + c], 0f, "layer " + k);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> unet.forward(sample, new float[] {500}, context, layer -> true, new int[] {8}));
    }

    @Test
    void inconsistentShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> unet.forward(sample, new float[] {1, 2}, context));
        assertThrows(IllegalArgumentException.class,
                () -> unet.forward(FloatTensor.of(new float[4 * 16], 4, 16), new float[] {1}, context));
        FloatTensor twoContexts = OnnxUNet.repeat(context, 2);
        FloatTensor threeSamples = OnnxUNet.repeat(sample, 3);
        assertThrows(IllegalArgumentException.class, () -> unet.forward(threeSamples, new float[] {1}, twoContexts));
    }

    @Test
    void aSizeTheExportCannotTakeIsAnErrorNamingTheGraph() {
        // 18x18 latents reach a 5x5 grid whose 2x upsampling (10x10) misses the 9x9 skip connection
        FloatTensor odd = FloatTensor.of(new float[4 * 18 * 18], 1, 4, 18, 18);
        OnnxExecutionException e = assertThrows(OnnxExecutionException.class, () -> unet.forward(odd, new float[] {1}, context));
        assertTrue(e.getMessage().contains("model.onnx") && e.getMessage().contains("exported for 16x16"), e.getMessage());
    }
}
