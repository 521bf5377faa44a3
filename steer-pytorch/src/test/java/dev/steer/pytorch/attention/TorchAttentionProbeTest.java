package dev.steer.pytorch.attention;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.pytorch.clip.ClipTextModel;
import dev.steer.pytorch.testing.TinyModels;
import dev.steer.pytorch.unet.UNet2DConditionModel;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TorchAttentionProbeTest {
    private static NDManager manager;
    private static UNet2DConditionModel unet;
    private static ClipTextModel text;

    @BeforeAll
    static void load() {
        manager = NDManager.newBaseManager();
        unet = TinyModels.unet(manager);
        text = TinyModels.textEncoder(manager);
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static int[] ints(long[] v) {
        return Arrays.stream(v).mapToInt(Math::toIntExact).toArray();
    }

    @Test
    void buildsClassifierInputInReferenceLayout() {
        try (SafetensorsFile g = Conformance.golden("pipeline-tiny", "steer_step_golden.safetensors");
                NDManager scope = manager.newSubManager()) {
            TorchAttentionProbe probe = new TorchAttentionProbe(List.of(
                    ints(g.readLongs("input.subject_token_indices")), ints(g.readLongs("input.object_token_indices"))));
            NDArray ctx = text.forward(scope.create(g.readLongs("input.cond_ids"), new Shape(1, 77)));
            NDArray latents = scope.create(g.readFloats("input.latents"), new Shape(1, 4, 16, 16));
            unet.forward(latents, scope.create(g.readLongs("input.timestep")), ctx, probe.asHook(0));
            assertEquals(44, probe.mapCount());
            NDArray maps = probe.classifierInput();
            assertEquals(new Shape(2, 44, 16, 16), maps.getShape());
            assertClose("probe output.maps", g.readFloats("output.maps"), maps.toFloatArray(), 1e-4);
        }
    }

    @Test
    void layerSubsetKeepsOnlyChosenLayers() {
        try (NDManager scope = manager.newSubManager()) {
            TorchAttentionProbe probe = TorchAttentionProbe.ofLayers(List.of(new int[] {1}, new int[] {2}), Set.of(0, 4));
            NDArray ctx = scope.randomNormal(new Shape(1, 8, 32));
            unet.forward(scope.randomNormal(new Shape(1, 4, 16, 16)), scope.create(new long[] {500}), ctx, probe.asHook(0));
            assertEquals(8, probe.mapCount());
            float[] sums = probe.classifierInput().sum(new int[] {2, 3}).toFloatArray();
            for (float s : sums) {
                assertEquals(1f, s, 1e-4f);
            }
        }
    }

    @Test
    void tokenPositionBeyondContextIsAClearError() {
        try (NDManager scope = manager.newSubManager()) {
            TorchAttentionProbe probe = new TorchAttentionProbe(List.of(new int[] {9}));
            NDArray ctx = scope.randomNormal(new Shape(1, 8, 32));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> unet.forward(
                    scope.randomNormal(new Shape(1, 4, 16, 16)), scope.create(new long[] {500}), ctx, probe.asHook(0)));
            assertEquals("token position 9 outside the 8 context tokens", e.getMessage());
        }
    }

    @Test
    void downsampledMapsAreTheReferencesBilinearWithoutAntialiasing() {
        // a 64x64 map (SD at 512 px) read by a 16x16 classifier: DJL's own bilinear interpolation
        // antialiases when it shrinks, torch's interpolate (the reference) does not
        int side = 64;
        float[] map = new float[side * side];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        for (int i = 0; i < map.length; i++) {
            map[i] = (float) rnd.nextDouble();
        }
        try (NDManager scope = manager.newSubManager()) {
            TorchAttentionProbe probe = new TorchAttentionProbe(List.of(new int[] {0}), 16, true);
            ai.djl.ndarray.NDArray probs = scope.create(map, new ai.djl.ndarray.types.Shape(1, side * side, 1));
            probe.onCrossAttention(new dev.steer.core.attention.CrossAttentionLayer(0, "probe", 1, 1), side, side, probs);
            float[] expected = dev.steer.core.internal.attention.BilinearResize.resize(map, side, side, 16, 16);
            float sum = 0;
            for (float v : expected) {
                sum += v;
            }
            for (int i = 0; i < expected.length; i++) {
                expected[i] /= sum + 1e-8f;
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, probe.classifierMaps(), 1e-7f);
        }
    }
}
