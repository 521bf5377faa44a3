package dev.steer.pytorch.t5;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import dev.steer.core.model.ConfigJson;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.model.T5Config;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.SafetensorsWriter;
import dev.steer.core.internal.weights.TensorData;
import dev.steer.core.weights.WeightsFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link T5EncoderModel} against the t5-tiny conformance fixture (transformers' T5EncoderModel,
 * gated-gelu, 2 blocks, d_model 32, 4 heads of 8, 32 buckets, random weights): the last hidden
 * state, the relative-position buckets and the position bias; loading from shards and with the tied
 * embedding copy; and refusal of configs and inputs it does not support.
 */
class T5EncoderModelTest {
    private static final String FIXTURE = "t5-tiny";

    private static NDManager manager;
    private static T5EncoderModel t5;
    private static SafetensorsFile golden;
    private static Path encoderDir;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        manager = NDManager.newBaseManager();
        encoderDir = Conformance.dir(FIXTURE).resolve("text_encoder_2");
        t5 = T5EncoderModel.load(encoderDir, manager);
        golden = Conformance.golden(FIXTURE);
    }

    @AfterAll
    static void close() {
        golden.close();
        manager.close();
    }

    private static NDArray ids(NDManager m) {
        return m.create(golden.readLongs("input.ids"), new Shape(golden.info("input.ids").shape()));
    }

    private static float[] lastHiddenState(T5EncoderModel model) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray out = model.forward(ids(scope));
            assertEquals(new Shape(2, 40, 32), out.getShape());
            assertSame(scope, out.getManager(), "outputs belong to the caller's scope");
            return out.toFloatArray();
        }
    }

    @Test
    void lastHiddenStateMatchesReference() {
        assertClose("t5 output.last_hidden_state", golden.readFloats("output.last_hidden_state"), lastHiddenState(t5), 1e-4);
    }

    @Test
    void relativePositionBucketsMatchReferenceExactly() {
        long[] expected = golden.readLongs("output.relative_position_bucket");
        assertArrayEquals(expected, T5EncoderModel.relativePositionBuckets(40, 40, true, 32, 128));
        // far positions share the last bucket of their direction
        assertEquals(31, T5EncoderModel.relativePositionBucket(1000, true, 32, 128));
        assertEquals(15, T5EncoderModel.relativePositionBucket(-1000, true, 32, 128));
        assertEquals(0, T5EncoderModel.relativePositionBucket(0, true, 32, 128));
        assertEquals(17, T5EncoderModel.relativePositionBucket(1, true, 32, 128));
    }

    @Test
    void positionBiasMatchesReference() {
        try (NDManager scope = manager.newSubManager()) {
            NDArray bias = t5.positionBias(scope, 40, 40);
            assertEquals(new Shape(1, 4, 40, 40), bias.getShape());
            assertSame(scope, bias.getManager());
            assertClose("t5 output.position_bias", golden.readFloats("output.position_bias"), bias.toFloatArray(), 1e-5);
        }
    }

    @Test
    void onlyTheFirstBlockOwnsTheRelativeAttentionBias() {
        Set<String> names = t5.namedParameters().keySet();
        assertTrue(names.contains("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"));
        assertFalse(names.contains("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"));
        assertTrue(names.contains("encoder.block.1.layer.1.DenseReluDense.wi_1.weight"));
        assertFalse(names.contains(T5EncoderModel.TIED_EMBEDDING));
    }

    // ---------------------------------------------------------------------------------- files

    private static Map<String, TensorData> fixtureTensors() {
        Map<String, TensorData> out = new LinkedHashMap<>();
        try (SafetensorsFile st = SafetensorsFile.open(encoderDir.resolve("model.safetensors"))) {
            for (String name : st.tensors().keySet()) {
                out.put(name, TensorData.ofFloats(st.info(name).shape(), st.readFloats(name)));
            }
        }
        return out;
    }

    /** A text_encoder_2 folder whose weights are split in two shards with an index. */
    private Path shardedFolder() throws IOException {
        Path dir = tmp.resolve("text_encoder_2");
        Files.createDirectories(dir);
        Files.copy(encoderDir.resolve("config.json"), dir.resolve("config.json"));
        Map<String, TensorData> all = fixtureTensors();
        List<String> names = new ArrayList<>(all.keySet());
        String[] files = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
        List<Map<String, TensorData>> parts = List.of(new LinkedHashMap<>(), new LinkedHashMap<>());
        JsonObject weightMap = new JsonObject();
        for (int i = 0; i < names.size(); i++) {
            int part = i < names.size() / 2 ? 0 : 1;
            parts.get(part).put(names.get(i), all.get(names.get(i)));
            weightMap.addProperty(names.get(i), files[part]);
        }
        SafetensorsWriter.write(dir.resolve(files[0]), parts.get(0), null);
        SafetensorsWriter.write(dir.resolve(files[1]), parts.get(1), null);
        JsonObject index = new JsonObject();
        index.add("metadata", new JsonObject());
        index.add("weight_map", weightMap);
        Files.writeString(dir.resolve("model.safetensors.index.json"), index.toString());
        return dir;
    }

    @Test
    void shardedCheckpointLoadsAndMatchesReference() throws IOException {
        Path dir = shardedFolder();
        try (NDManager weights = manager.newSubManager()) {
            T5EncoderModel sharded = T5EncoderModel.load(dir, weights);
            assertClose("t5 sharded output.last_hidden_state", golden.readFloats("output.last_hidden_state"),
                    lastHiddenState(sharded), 1e-4);
        }
    }

    @Test
    void missingShardIsNamedWithTheIndex() throws IOException {
        Path dir = shardedFolder();
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> T5EncoderModel.load(dir, manager));
        assertTrue(e.getMessage().contains("model.safetensors.index.json")
                && e.getMessage().contains("'model-00002-of-00002.safetensors' is missing"), e.getMessage());
    }

    @Test
    void shardNameEscapingTheFolderIsRefused() throws IOException {
        Path dir = shardedFolder();
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, Files.readString(index).replace("\"model-00002-of-00002.safetensors\"",
                "\"../text_encoder_2/model-00002-of-00002.safetensors\""));
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> T5EncoderModel.load(dir, manager));
        assertTrue(e.getMessage().contains("../text_encoder_2/model-00002-of-00002.safetensors")
                && e.getMessage().contains("not a plain file name"), e.getMessage());
    }

    @Test
    void tiedEmbedTokensCopyIsAcceptedWhenShapedLikeSharedAndRefusedOtherwise() throws IOException {
        Path dir = tmp.resolve("tied");
        Files.createDirectories(dir);
        Files.copy(encoderDir.resolve("config.json"), dir.resolve("config.json"));
        Map<String, TensorData> tensors = fixtureTensors();
        tensors.put(T5EncoderModel.TIED_EMBEDDING, tensors.get("shared.weight"));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, null);
        try (NDManager weights = manager.newSubManager()) {
            assertClose("t5 with tied embed_tokens", golden.readFloats("output.last_hidden_state"),
                    lastHiddenState(T5EncoderModel.load(dir, weights)), 1e-4);
        }
        tensors.put(T5EncoderModel.TIED_EMBEDDING, TensorData.ofFloats(new long[] {10, 32}, new float[320]));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, null);
        WeightsFormatException e = assertThrows(WeightsFormatException.class, () -> T5EncoderModel.load(dir, manager));
        assertTrue(e.getMessage().contains(T5EncoderModel.TIED_EMBEDDING) && e.getMessage().contains("[10, 32]"), e.getMessage());
    }

    // ---------------------------------------------------------------------------------- configs and inputs

    private static T5Config parse(String json) {
        return T5Config.from(ConfigJson.parse(Path.of("text_encoder_2/config.json"), json));
    }

    private static final String DIMS = "\"d_model\": 32, \"d_kv\": 8, \"num_heads\": 4, \"d_ff\": 48, \"num_layers\": 2, \"vocab_size\": 100";

    @Test
    void fixtureConfigIsGatedGelu() {
        T5Config c = t5.config();
        assertEquals(new T5Config(1000, 32, 8, 4, 48, 2, 32, 128, 1e-6f, "gated-gelu"), c);
        assertTrue(c.isGated());
    }

    @Test
    void unsupportedFeedForwardIsRefusedNamingFileKeyAndSupportedValues() {
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> parse("{\"model_type\": \"t5\", " + DIMS + ", \"feed_forward_proj\": \"gated-silu\"}"));
        String m = e.getMessage();
        assertTrue(m.contains("text_encoder_2/config.json") && m.contains("feed_forward_proj") && m.contains("gated-silu")
                && m.contains("gated-gelu") && m.contains("relu"), m);
    }

    @Test
    void otherModelsAreRefused() {
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> parse("{\"model_type\": \"bert\", " + DIMS + "}"));
        assertTrue(e.getMessage().contains("model_type") && e.getMessage().contains("bert") && e.getMessage().contains("t5"),
                e.getMessage());
        e = assertThrows(ModelConfigException.class,
                () -> parse("{\"model_type\": \"t5\", \"architectures\": [\"T5ForConditionalGeneration\"], " + DIMS + "}"));
        assertTrue(e.getMessage().contains("T5ForConditionalGeneration"), e.getMessage());
        e = assertThrows(ModelConfigException.class, () -> parse("{\"model_type\": \"t5\", \"d_model\": 32}"));
        assertTrue(e.getMessage().contains("missing required key 'd_kv'"), e.getMessage());
        e = assertThrows(ModelConfigException.class,
                () -> parse("{\"model_type\": \"t5\", " + DIMS + ", \"relative_attention_num_buckets\": 6}"));
        assertTrue(e.getMessage().contains("relative_attention_num_buckets"), e.getMessage());
    }

    @Test
    void plainReluT5HasUngatedFeedForward() {
        T5Config c = parse("{\"model_type\": \"t5\", " + DIMS + ", \"feed_forward_proj\": \"relu\"}");
        assertFalse(c.isGated());
        T5EncoderModel relu = new T5EncoderModel(c);
        Set<String> names = relu.namedParameters().keySet();
        assertTrue(names.contains("encoder.block.0.layer.1.DenseReluDense.wi.weight"), names.toString());
        assertFalse(names.contains("encoder.block.0.layer.1.DenseReluDense.wi_0.weight"));
        try (NDManager weights = manager.newSubManager()) {
            dev.steer.pytorch.internal.weights.ModelWeights.randomize(relu, 7, weights);
            NDArray out = relu.forward(weights.create(new long[] {5, 6, 1, 0}, new Shape(1, 4)));
            assertEquals(new Shape(1, 4, 32), out.getShape());
            for (float v : out.toFloatArray()) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void idsOutsideTheVocabularyAreRefusedBeforeReachingLibTorch() {
        try (NDManager scope = manager.newSubManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> t5.forward(scope.create(new long[] {4, 1000}, new Shape(1, 2))));
            assertTrue(e.getMessage().contains("1000") && e.getMessage().contains("vocabulary"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t5.forward(scope.create(new long[] {4, 1}, new Shape(2))));
            assertThrows(IllegalArgumentException.class, () -> t5.forward(scope.create(new float[] {4, 1}, new Shape(1, 2))));
        }
    }
}
