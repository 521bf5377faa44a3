package dev.steer.pytorch.clip;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.model.ClipTextConfig;
import dev.steer.core.model.ConfigJson;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pooled output of {@link ClipTextModel} against the clip-pooled-tiny fixture (FLUX.1-style
 * config: eos_token_id 2, so transformers pools at the largest id), and the newer rule (first
 * position of {@code eos_token_id}) for configs with another end id.
 */
class ClipPooledOutputTest {
    private static final String FIXTURE = "clip-pooled-tiny";

    private static NDManager manager;
    private static ClipTextModel clip;
    private static SafetensorsFile golden;

    @BeforeAll
    static void load() {
        manager = NDManager.newBaseManager();
        clip = model(null);
        golden = Conformance.golden(FIXTURE);
    }

    @AfterAll
    static void close() {
        golden.close();
        manager.close();
    }

    /** The fixture's encoder, optionally with another eos_token_id. */
    private static ClipTextModel model(Integer eos) {
        Path dir = Conformance.dir(FIXTURE).resolve("text_encoder");
        ClipTextConfig c = ClipTextConfig.load(dir.resolve("config.json"));
        if (eos != null) {
            c = new ClipTextConfig(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numAttentionHeads(), c.numHiddenLayers(),
                    c.maxPositionEmbeddings(), c.hiddenAct(), c.layerNormEps(), eos);
        }
        ClipTextModel m = new ClipTextModel(c);
        ModelWeights.load(m, List.of(dir.resolve("model.safetensors")), manager);
        return m;
    }

    private static NDArray ids(NDManager m) {
        return m.create(golden.readLongs("input.ids"), new Shape(golden.info("input.ids").shape()));
    }

    @Test
    void pooledOutputAndHiddenStatesMatchReference() {
        assertEquals(2, clip.config().eosTokenId(), "FLUX.1-style config");
        try (NDManager scope = manager.newSubManager()) {
            NDArray ids = ids(scope);
            ClipTextOutput out = clip.encode(ids);
            assertEquals(new Shape(2, 32), out.pooled().getShape());
            assertSame(scope, out.pooled().getManager(), "outputs belong to the caller's scope");
            assertArrayEquals(golden.readLongs("output.pooled_index"), clip.pooledPositions(ids));
            assertClose("clip-pooled output.pooled", golden.readFloats("output.pooled"), out.pooled().toFloatArray(), 1e-4);
            assertClose("clip-pooled output.last_hidden_state", golden.readFloats("output.last_hidden_state"),
                    out.lastHiddenState().toFloatArray(), 1e-4);
            assertClose("clip-pooled output.penultimate_hidden_state", golden.readFloats("output.penultimate_hidden_state"),
                    clip.hiddenState(ids, 1).toFloatArray(), 1e-4);
        }
    }

    @Test
    void nonLegacyEosIdPoolsAtItsFirstOccurrenceNotTheLargestId() {
        ClipTextModel newer = model(999);
        try (NDManager scope = manager.newSubManager()) {
            NDArray ids = ids(scope);
            // the fixture's end token is 999 and pads are 999: both rules agree on it
            assertArrayEquals(golden.readLongs("output.pooled_index"), newer.pooledPositions(ids));
            assertClose("clip-pooled output.pooled (eos 999)", golden.readFloats("output.pooled"),
                    newer.encode(ids).pooled().toFloatArray(), 1e-4);

            NDArray custom = scope.create(new long[] {998, 10, 500, 600, 500, 7}, new Shape(1, 6));
            assertArrayEquals(new long[] {0}, clip.pooledPositions(custom), "legacy: argmax");
            ClipTextModel eos500 = model(500);
            assertArrayEquals(new long[] {2}, eos500.pooledPositions(custom), "first id == eos_token_id");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> eos500.pooledPositions(scope.create(new long[] {998, 10, 11}, new Shape(1, 3))));
            assertTrue(e.getMessage().contains("500") && e.getMessage().contains("no end token"), e.getMessage());
        }
    }

    @Test
    void eosTokenIdIsReadWithTransformersDefault() {
        String base = "{\"hidden_size\": 32, \"num_attention_heads\": 4, \"num_hidden_layers\": 2";
        Path file = Path.of("text_encoder/config.json");
        assertEquals(2, ClipTextConfig.from(ConfigJson.parse(file, base + "}")).eosTokenId());
        assertEquals(49407, ClipTextConfig.from(ConfigJson.parse(file, base + ", \"eos_token_id\": 49407}")).eosTokenId());
        assertThrows(dev.steer.core.model.ModelConfigException.class,
                () -> ClipTextConfig.from(ConfigJson.parse(file, base + ", \"eos_token_id\": \"</s>\"}")));
    }
}
