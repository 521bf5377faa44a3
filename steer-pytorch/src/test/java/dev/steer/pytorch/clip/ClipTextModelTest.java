package dev.steer.pytorch.clip;

import dev.steer.pytorch.testing.TinyModels;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.steer.core.model.ClipTextConfig;
import dev.steer.core.model.ConfigJson;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.pytorch.nn.Weight;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ClipTextModelTest {
    private static NDManager manager;
    private static ClipTextModel clip;
    private static SafetensorsFile golden;

    @BeforeAll
    static void load() {
        manager = NDManager.newBaseManager();
        clip = TinyModels.textEncoder(manager);
        golden = Conformance.golden("clip-sd1-tiny");
    }

    @AfterAll
    static void close() {
        golden.close();
        manager.close();
    }

    private static NDArray ids(NDManager m) {
        return m.create(golden.readLongs("input.ids"), new Shape(golden.info("input.ids").shape()));
    }

    @Test
    void lastAndPenultimateHiddenStatesMatchReference() {
        try (NDManager scope = manager.newSubManager()) {
            NDArray ids = ids(scope);
            NDArray last = clip.forward(ids);
            NDArray penultimate = clip.hiddenState(ids, 1);
            assertEquals(new Shape(2, 77, 32), last.getShape());
            assertSame(scope, last.getManager(), "outputs belong to the caller's scope");
            assertClose("clip output.last_hidden_state", golden.readFloats("output.last_hidden_state"), last.toFloatArray(), 1e-4);
            assertClose("clip output.penultimate_hidden_state", golden.readFloats("output.penultimate_hidden_state"),
                    penultimate.toFloatArray(), 1e-4);
            // the last layer's output normalised is the last hidden state
            assertClose("clip finalLayerNorm(hiddenState(0))", golden.readFloats("output.last_hidden_state"),
                    clip.finalLayerNorm(clip.hiddenState(ids, 0)).toFloatArray(), 1e-6);
        }
    }

    @Test
    void causalMaskMakesEarlyTokensIndependentOfLaterOnes() {
        try (NDManager scope = manager.newSubManager()) {
            NDArray ids = ids(scope);
            NDArray prefix = ids.get(":, 0:10");
            NDArray full = clip.forward(ids).get(":, 0:10");
            assertClose("clip prefix-only forward", full.toFloatArray(), clip.forward(prefix).toFloatArray(), 1e-5);
        }
    }

    @Test
    void gradientsReachTheTokenEmbeddingTable() {
        try (NDManager scope = manager.newSubManager()) {
            Weight table = clip.namedParameters().get("text_model.embeddings.token_embedding.weight");
            clip.setRequiresGradient(true);
            try {
                NDArray ids = ids(scope);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray out = clip.forward(ids);
                    assertSame(scope, out.getManager());
                    gc.backward(out.square().sum());
                }
                NDArray grad = table.value().getGradient();
                assertNotNull(grad);
                float[] g = grad.toFloatArray();
                long[] used = golden.readLongs("input.ids");
                int dim = 32;
                double usedNorm = 0;
                double unusedNorm = 0;
                java.util.Set<Long> usedSet = new java.util.HashSet<>();
                for (long id : used) {
                    usedSet.add(id);
                }
                for (int row = 0; row < 1000; row++) {
                    for (int j = 0; j < dim; j++) {
                        double v = g[row * dim + j];
                        if (usedSet.contains((long) row)) {
                            usedNorm += v * v;
                        } else {
                            unusedNorm += v * v;
                        }
                    }
                }
                assertTrue(usedNorm > 0, "rows of used tokens get gradient");
                assertEquals(0.0, unusedNorm, "rows of unused tokens get none");
            } finally {
                clip.setRequiresGradient(false);
            }
        }
    }

    @Test
    void unsupportedActivationIsRefusedByName() {
        String json = "{\"hidden_size\": 32, \"num_attention_heads\": 4, \"num_hidden_layers\": 2, \"hidden_act\": \"relu\","
                + " \"architectures\": [\"CLIPTextModel\"]}";
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> ClipTextConfig.from(ConfigJson.parse(Path.of("text_encoder/config.json"), json)));
        assertTrue(e.getMessage().contains("hidden_act") && e.getMessage().contains("relu"), e.getMessage());
    }

    @Test
    void configOfAnotherModelIsRefused() {
        String t5 = "{\"architectures\": [\"T5EncoderModel\"], \"model_type\": \"t5\", \"d_model\": 512}";
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> ClipTextConfig.from(ConfigJson.parse(Path.of("text_encoder/config.json"), t5)));
        assertTrue(e.getMessage().contains("t5"), e.getMessage());
        String vision = "{\"architectures\": [\"CLIPVisionModel\"], \"hidden_size\": 32, \"num_attention_heads\": 4,"
                + " \"num_hidden_layers\": 2}";
        e = assertThrows(ModelConfigException.class,
                () -> ClipTextConfig.from(ConfigJson.parse(Path.of("text_encoder/config.json"), vision)));
        assertTrue(e.getMessage().contains("CLIPVisionModel"), e.getMessage());
        e = assertThrows(ModelConfigException.class,
                () -> ClipTextConfig.from(ConfigJson.parse(Path.of("vae/config.json"), "{\"_class_name\": \"AutoencoderKL\"}")));
        assertTrue(e.getMessage().contains("not a CLIP text model"), e.getMessage());
    }

    @Test
    void sd21TextEncoderConfigUsesGeluAnd23Layers() {
        ClipTextConfig c = ClipTextConfig.load(Conformance.testdata().resolve("architectures/sd21/text_encoder/config.json"));
        assertEquals("gelu", c.hiddenAct());
        assertEquals(23, c.numHiddenLayers());
        assertEquals(1024, c.hiddenSize());
        // transformers' CLIPTextModel of SD 2.x (OpenCLIP ViT-H/14 text tower without its last layer)
        assertEquals(340_387_840L, new ClipTextModel(c).parameterCount());
    }

    @Test
    void sd15TextEncoderBuildsFromConfigAloneWithRandomWeights() {
        ClipTextConfig c = ClipTextConfig.load(Conformance.testdata().resolve("architectures/sd15/text_encoder/config.json"));
        ClipTextModel model = new ClipTextModel(c);
        assertEquals(123_060_480L, model.parameterCount());
        try (NDManager weights = NDManager.newBaseManager()) {
            ModelWeights.randomize(model, 42, weights);
            try (NDManager scope = weights.newSubManager()) {
                NDArray ids = scope.create(new long[] {49406, 320, 2368, 49407}, new Shape(1, 4));
                NDArray out = model.forward(ids);
                assertEquals(new Shape(1, 4, 768), out.getShape());
                for (float v : out.toFloatArray()) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
    }
}
