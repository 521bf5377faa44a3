package dev.steer.pytorch.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.testing.Conformance;
import dev.steer.core.tokenizer.T5Tokenizer;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.pytorch.pipeline.FluxPipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FluxShapeWorldTrainerTest {
    private static final Path SOURCE = Conformance.testdata().getParent().resolve("models/shapeworld");

    @TempDir
    Path tmp;

    private FluxShapeWorldTrainer.Builder trainer(Path work, Path out, int steps, List<String> log) {
        return FluxShapeWorldTrainer.builder().setWorkDir(work).setOutput(out).setSource(SOURCE)
                .optBatchSize(2).optSteps(steps).optCheckpointEvery(2).optHidden(32).optBlocks(1, 1).optT5(16, 1).optTextLength(16)
                .optLog(log::add);
    }

    @Test
    void resumedTrainingEqualsUninterruptedAndExportsAFolderTheFluxPipelineLoads() throws Exception {
        List<String> log = new ArrayList<>();
        Path straight = trainer(tmp.resolve("w1"), tmp.resolve("m1"), 4, log).build().run();
        trainer(tmp.resolve("w2"), tmp.resolve("m2"), 2, log).build().run();
        Path resumed = trainer(tmp.resolve("w2"), tmp.resolve("m2"), 4, log).build().run();
        for (String file : List.of("transformer/diffusion_pytorch_model.safetensors", "text_encoder_2/model.safetensors")) {
            try (SafetensorsFile a = SafetensorsFile.open(straight.resolve(file));
                    SafetensorsFile b = SafetensorsFile.open(resumed.resolve(file))) {
                assertEquals(a.tensors().keySet(), b.tensors().keySet());
                for (String name : a.tensors().keySet()) {
                    assertArrayEquals(a.readFloats(name), b.readFloats(name), 0f, file + " " + name);
                }
                assertEquals("4", a.metadata().get("steer_training_steps"));
            }
        }
        JsonObject state = ShapeWorldTraining.readState(tmp.resolve("w2"));
        assertEquals(4, state.get("step").getAsInt());
        assertTrue(state.getAsJsonArray("history").size() >= 2, "loss history: " + state);
        try (FluxPipeline flux = FluxPipeline.builder().setModelFolder(straight).build()) {
            assertFalse(flux.embedsGuidance());
            assertEquals(64, flux.transformer().config().inChannels() * 4);
            // guidance above 1: classifier-free guidance with the empty negative prompt, as the caption dropout trained for
            GenerationResult r = flux.generate(GenerationRequest.builder("a photo of a red circle left of a blue square")
                    .optSteps(2).optGuidanceScale(5f).optSize(32, 32).optSeed(1).build());
            assertEquals(32, r.image().getWidth());
            assertEquals(32, r.image().getHeight());
        }
    }

    @Test
    void theShapeWorldVocabularyTokenizesCaptionsIntoWholeWordsAsT5Does() throws Exception {
        Path folder = tmp.resolve("m");
        Files.createDirectories(folder.resolve("tokenizer_2"));
        Files.writeString(folder.resolve("tokenizer_2/tokenizer.json"), ShapeWorldT5Vocabulary.tokenizerJson());
        try (T5Tokenizer t = T5Tokenizer.fromFolder(folder, 16)) {
            TokenizedPrompt p = t.tokenize("A photo of a red circle left of a blue square");
            long[] ids = p.idsAsLongs();
            assertEquals(16, ids.length);
            List<String> pieces = ShapeWorldT5Vocabulary.pieces();
            List<String> got = new ArrayList<>();
            for (long id : ids) {
                got.add(pieces.get((int) id));
            }
            assertEquals(List.of("▁a", "▁photo", "▁of", "▁a", "▁red", "▁circle", "▁left", "▁of", "▁a", "▁blue", "▁square", "</s>",
                    "<pad>", "<pad>", "<pad>", "<pad>"), got);
            assertEquals(0, pieces.indexOf("<pad>"));
            // a word outside the vocabulary is spelled out, not lost
            long[] other = t.tokenize("a pink circle").idsAsLongs();
            assertNotEquals(2L, other[1]);
            assertEquals("▁", pieces.get((int) other[1]));
        }
    }

    @Test
    void aGroundedPhaseChangesTheWeightsAndIsRecordedWithTheShareOfAttentionInsideTheBoxes() throws Exception {
        List<String> log = new ArrayList<>();
        Path plain = trainer(tmp.resolve("w1"), tmp.resolve("m1"), 4, log).optCheckpointEvery(4).build().run();
        trainer(tmp.resolve("w2"), tmp.resolve("m2"), 2, log).optCheckpointEvery(2).build().run();
        Path grounded = trainer(tmp.resolve("w2"), tmp.resolve("m2"), 4, log).optCheckpointEvery(2).optGroundingWeight(1f).build().run();
        String file = "transformer/diffusion_pytorch_model.safetensors";
        // the live float32 weights: two warm-up steps move the exported float16 EMA by less than its resolution
        try (SafetensorsFile a = SafetensorsFile.open(tmp.resolve("w1/model.safetensors"));
                SafetensorsFile b = SafetensorsFile.open(tmp.resolve("w2/model.safetensors"))) {
            String key = "transformer.transformer_blocks.0.attn.to_q.weight";
            assertFalse(java.util.Arrays.equals(a.readFloats(key), b.readFloats(key)));
        }
        try (SafetensorsFile b = SafetensorsFile.open(grounded.resolve(file))) {
            assertTrue(b.metadata().get("steer_grounding").contains("\"from_step\":2"), b.metadata().toString());
        }
        assertTrue(Files.exists(plain.resolve(file)));
        JsonObject state = ShapeWorldTraining.readState(tmp.resolve("w2"));
        var history = state.getAsJsonArray("history");
        JsonObject last = history.get(history.size() - 1).getAsJsonObject();
        double inside = last.get("inside_share").getAsDouble();
        assertTrue(inside > 0 && inside < 1, last.toString());
    }

    @Test
    void annealingFallsLinearlyToZeroAfterTheLastStepAndARunThatAddsItRecordsWhereItBegan() throws Exception {
        List<String> log = new ArrayList<>();
        FluxShapeWorldTrainer constant = trainer(tmp.resolve("w"), tmp.resolve("m"), 10, log).optWarmupSteps(2).optLearningRate(1f).build();
        FluxShapeWorldTrainer annealed = trainer(tmp.resolve("w"), tmp.resolve("m"), 10, log).optWarmupSteps(2).optLearningRate(1f)
                .optDecayFrom(6).build();
        assertEquals(0.5f, constant.rate(0));
        assertEquals(1f, constant.rate(9));
        assertEquals(1f, annealed.rate(5));
        assertEquals(1f, annealed.rate(6));
        assertEquals(0.5f, annealed.rate(8));
        assertEquals(0.25f, annealed.rate(9));
        assertThrows(IllegalArgumentException.class, () -> trainer(tmp.resolve("w"), tmp.resolve("m"), 10, log).optDecayFrom(10).build());

        trainer(tmp.resolve("w"), tmp.resolve("m"), 1, log).build().run();
        trainer(tmp.resolve("w"), tmp.resolve("m"), 2, log).build().run(); // resumed with the same schedule: no new phase
        Path folder = trainer(tmp.resolve("w"), tmp.resolve("m"), 4, log).optDecayFrom(2).build().run();
        var phases = ShapeWorldTraining.readState(tmp.resolve("w")).getAsJsonArray("learning_rate");
        assertEquals(2, phases.size(), phases.toString());
        assertFalse(phases.get(0).getAsJsonObject().has("linear_decay_from_step"));
        JsonObject decay = phases.get(1).getAsJsonObject();
        assertEquals(2, decay.get("from_step").getAsInt());
        assertEquals(2, decay.get("linear_decay_from_step").getAsInt());
        assertEquals(4, decay.get("to_zero_after_step").getAsInt());
        try (SafetensorsFile f = SafetensorsFile.open(folder.resolve("transformer/diffusion_pytorch_model.safetensors"))) {
            assertTrue(f.metadata().get("steer_learning_rate").contains("\"linear_decay_from_step\":2"), f.metadata().toString());
        }
    }

    @Test
    void refusesAWorkFolderOfAnotherArchitecture() throws Exception {
        List<String> log = new ArrayList<>();
        trainer(tmp.resolve("w"), tmp.resolve("m"), 1, log).build().run();
        assertThrows(IllegalStateException.class, () -> trainer(tmp.resolve("w"), tmp.resolve("m"), 2, log).optHidden(64).build().run());
    }
}
