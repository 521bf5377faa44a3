package dev.steer.pytorch.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.pytorch.pipeline.StableDiffusion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShapeWorldTrainerTest {
    @TempDir
    Path tmp;

    private ShapeWorldTrainer.Builder trainer(Path work, Path out, int steps, List<String> log) {
        return ShapeWorldTrainer.builder().setWorkDir(work).setOutput(out).setTokenizerSource(Conformance.dir("clip-tokenizer"))
                .optBatchSize(2).optVaeSteps(2).optSteps(steps).optCheckpointEvery(2).optLog(log::add);
    }

    @Test
    void resumedTrainingEqualsUninterruptedAndExportsALoadableModelFolder() throws Exception {
        List<String> log = new ArrayList<>();
        Path straight = trainer(tmp.resolve("w1"), tmp.resolve("m1"), 4, log).build().run();
        trainer(tmp.resolve("w2"), tmp.resolve("m2"), 2, log).build().run();
        Path resumed = trainer(tmp.resolve("w2"), tmp.resolve("m2"), 4, log).build().run();
        try (SafetensorsFile a = SafetensorsFile.open(straight.resolve("unet/diffusion_pytorch_model.safetensors"));
                SafetensorsFile b = SafetensorsFile.open(resumed.resolve("unet/diffusion_pytorch_model.safetensors"))) {
            for (String name : a.tensors().keySet()) {
                assertArrayEquals(a.readFloats(name), b.readFloats(name), 0f, name);
            }
        }
        assertTrue(Files.size(straight.resolve("unet/diffusion_pytorch_model.safetensors")) < 10_000_000);
        try (StableDiffusion sd = StableDiffusion.builder().setModelFolder(straight).build()) {
            GenerationResult r = sd.generate(GenerationRequest.builder("a red circle left of a blue square").optSteps(2).build());
            assertEquals(32, r.image().getWidth());
            assertEquals(32, sd.tokenizer().maxLength());
        }
    }

    @Test
    void aGroundedPhaseChangesTheWeightsAndIsRecordedInTheProgressFileAndTheExportedModel() throws Exception {
        List<String> log = new ArrayList<>();
        trainer(tmp.resolve("w1"), tmp.resolve("m1"), 4, log).build().run();
        trainer(tmp.resolve("w2"), tmp.resolve("m2"), 2, log).build().run();
        Path grounded = trainer(tmp.resolve("w2"), tmp.resolve("m2"), 4, log).optGroundingWeight(1f).build().run();
        String state = Files.readString(tmp.resolve("w2/state.json"));
        assertTrue(state.replaceAll("\\s", "").contains("\"grounding\":[{\"from_step\":2,\"weight\":1.0}]"), state);
        try (SafetensorsFile exported = SafetensorsFile.open(grounded.resolve("unet/diffusion_pytorch_model.safetensors"))) {
            assertTrue(exported.metadata().get("steer_grounding").contains("\"from_step\":2"), exported.metadata().toString());
        }
        // the raw (not averaged) weights of the checkpoints: grounding moved the cross-attention keys
        try (SafetensorsFile a = SafetensorsFile.open(tmp.resolve("w1/model.safetensors"));
                SafetensorsFile b = SafetensorsFile.open(tmp.resolve("w2/model.safetensors"))) {
            String key = "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight";
            assertFalse(java.util.Arrays.equals(a.readFloats(key), b.readFloats(key)), "grounding must move the cross-attention keys");
        }
    }

    @Test
    void refusesANegativeOrNonFiniteGroundingWeight() {
        List<String> log = new ArrayList<>();
        assertThrows(IllegalArgumentException.class, () -> trainer(tmp, tmp, 1, log).optGroundingWeight(-1f).build());
        assertThrows(IllegalArgumentException.class, () -> trainer(tmp, tmp, 1, log).optGroundingWeight(Float.NaN).build());
    }
}
