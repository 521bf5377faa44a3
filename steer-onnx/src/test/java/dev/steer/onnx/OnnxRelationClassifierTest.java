package dev.steer.onnx;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.model.ModelConfigException;
import dev.steer.core.internal.weights.RelationClassifierWeights;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.weights.WeightsFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relation classifier as a generated ONNX graph reproduces the published code's logits. */
class OnnxRelationClassifierTest {
    @TempDir
    Path tmp;

    private static final Path FIXTURE = Conformance.dir("classifier-sd2-reference");

    private static void reproduces(Path checkpoint, String what) {
        try (OnnxRelationClassifier c = OnnxRelationClassifier.load(checkpoint);
                SafetensorsFile g = Conformance.golden("classifier-sd2-reference")) {
            assertEquals(List.of("above", "below", "to the left of", "to the right of", "is"), c.classNames());
            assertEquals(2, c.classIndex(SpatialRelation.LEFT_OF));
            assertEquals(1368, c.mapsPerWord());
            assertEquals(50, c.timestepIndices());
            float[] logits = c.logits(g.readFloats("input.maps"), 195, g.readLongs("input.timestep"));
            assertClose("onnx classifier logits (" + what + ")", g.readFloats("output.logits"), logits, 1e-4);
        }
    }

    @Test
    void reproducesReferenceLogitsFromThePublishedCheckpoint() {
        reproduces(FIXTURE.resolve("classifier.pth"), ".pth");
    }

    @Test
    void reproducesReferenceLogitsFromSafetensorsAndConfig() {
        reproduces(FIXTURE.resolve("classifier.safetensors"), ".safetensors");
    }

    @Test
    void oneSampleAtATimeGivesTheSameLogitsAsTheBatch() {
        try (OnnxRelationClassifier c = OnnxRelationClassifier.load(FIXTURE.resolve("classifier.pth"));
                SafetensorsFile g = Conformance.golden("classifier-sd2-reference")) {
            float[] maps = g.readFloats("input.maps");
            long[] t = g.readLongs("input.timestep");
            float[] all = c.logits(maps, 195, t);
            int per = 2 * 195 * 256;
            for (int b = 0; b < t.length; b++) {
                float[] one = c.logits(Arrays.copyOfRange(maps, b * per, (b + 1) * per), 195, new long[] {t[b]});
                assertClose("sample " + b, Arrays.copyOfRange(all, b * 5, b * 5 + 5), one, 1e-5);
            }
            // fewer maps per word (a smaller UNet): the position encoding is sliced to the count
            float[] fewer = c.logits(Arrays.copyOf(maps, 2 * 44 * 256), 44, new long[] {5});
            assertEquals(5, fewer.length);
        }
    }

    @Test
    void badInputsAreRefusedWithClearMessages() {
        try (OnnxRelationClassifier c = OnnxRelationClassifier.load(FIXTURE.resolve("classifier.safetensors"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> c.logits(new float[2 * 10 * 256], 10, new long[] {50}));
            assertTrue(e.getMessage().contains("outside [0, 50)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> c.logits(new float[2 * 10 * 256], 11, new long[] {5}));
            assertTrue(e.getMessage().contains("values"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> c.logits(new float[2 * 1369 * 256], 1369, new long[] {5}));
            assertTrue(e.getMessage().contains("input_channels"), e.getMessage());
        }
    }

    @Test
    void mismatchedWeightsAndMissingFilesAreNamed() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("wrong"));
        Files.copy(FIXTURE.resolve("classifier.safetensors"), dir.resolve("classifier.safetensors"));
        Files.writeString(dir.resolve("config.json"), Files.readString(FIXTURE.resolve("config.json"))
                .replace("\"dim_feedforward\": 128,\n      \"layer_attn_nheads\"", "\"dim_feedforward\": 64,\n      \"layer_attn_nheads\""));
        WeightsFormatException e = assertThrows(WeightsFormatException.class, () -> OnnxRelationClassifier.load(dir));
        assertTrue(e.getMessage().contains("linear1.weight") && e.getMessage().contains("shape"), e.getMessage());
        assertThrows(WeightsFormatException.class, () -> OnnxRelationClassifier.load(tmp.resolve("none.pth")));
        Path noConfig = Files.createDirectories(tmp.resolve("no-config"));
        Files.copy(FIXTURE.resolve("classifier.safetensors"), noConfig.resolve("classifier.safetensors"));
        assertThrows(ModelConfigException.class, () -> OnnxRelationClassifier.load(noConfig.resolve("classifier.safetensors")));
    }

    @Test
    void theGeneratedGraphIsAPlainOnnxModel() {
        byte[] model = OnnxRelationClassifier.graph(RelationClassifierWeights.load(FIXTURE.resolve("classifier.pth")));
        var parsed = dev.steer.onnx.internal.proto.OnnxModelProto.parse(java.nio.ByteBuffer.wrap(model));
        assertEquals(List.of("maps", "timestep"), parsed.inputs().stream().map(v -> v.name()).toList());
        assertEquals("logits", parsed.outputs().get(0).name());
        assertEquals(17L, parsed.opsets().get(""));
    }
}
