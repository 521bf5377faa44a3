package dev.steer.pytorch.attention;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.testing.Conformance;
import dev.steer.core.weights.SafetensorsFile;
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
}
