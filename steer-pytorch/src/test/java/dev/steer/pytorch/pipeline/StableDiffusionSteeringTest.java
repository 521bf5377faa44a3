package dev.steer.pytorch.pipeline;

import dev.steer.pytorch.testing.TinyModels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.image.PngImages;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import dev.steer.core.steering.SteeringStepReport;
import dev.steer.core.testing.Conformance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StableDiffusionSteeringTest {
    @TempDir
    static Path tmp;

    private static StableDiffusion sd;

    @BeforeAll
    static void load() throws Exception {
        Path folder = TinyModels.fullVocabularyFolder(tmp.resolve("tiny"));
        int maps;
        try (StableDiffusion plain = StableDiffusion.builder().setModelFolder(folder).build()) {
            maps = AttentionProbe.mapsPerWord(plain.unet().crossAttentionLayers());
        }
        sd = StableDiffusion.builder().setModelFolder(folder)
                .optRelationClassifier(Conformance.referenceClassifierFor(tmp.resolve("classifier"), maps)).build();
    }

    @Test
    void aClassifierForAnotherModelIsRefusedWhenThePipelineIsBuilt() {
        Path folder = tmp.resolve("tiny");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StableDiffusion.builder().setModelFolder(folder)
                .optRelationClassifier(Conformance.dir("classifier-sd2-reference").resolve("classifier.pth")).build());
        int maps = AttentionProbe.mapsPerWord(sd.unet().crossAttentionLayers());
        assertTrue(e.getMessage().contains("reads 1368 maps per word") && e.getMessage().contains("produces " + maps), e.getMessage());
    }

    @AfterAll
    static void close() {
        sd.close();
    }

    private static GenerationRequest.Builder request(String prompt) {
        return GenerationRequest.builder(prompt).optSteps(6).optSize(64, 64).optSeed(3);
    }

    @Test
    void steersTheFirstHalfWithRelationsParsedFromThePromptAndReportsEachStep() throws Exception {
        List<SteeringStepReport> heard = new ArrayList<>();
        // the fixture classifier has random weights: its gradients are ~1e-4 in norm, so the step
        // size is scaled to match (a trained classifier uses the reference's 5 to 7.5)
        SteeringRequest steering = SteeringRequest.fromPrompt()
                .withConfig(SteeringConfig.DEFAULTS.withMaxIterations(3).withStepSize(1e3f))
                .withListener(heard::add);
        String prompt = "a photo of a dog right of a teddy bear";
        GenerationResult steered = sd.generate(request(prompt).optSteering(steering).build());
        GenerationResult vanilla = sd.generate(request(prompt).build());

        assertEquals(3, steered.steering().size(), "steps 0..2 of 6 are steered");
        assertEquals(steered.steering(), heard);
        for (SteeringStepReport r : steered.steering()) {
            assertTrue(r.iterations() >= 1 && r.iterations() <= 3, r.toString());
            assertTrue(r.lossAfter() < r.lossBefore(), "loss " + r.lossBefore() + " -> " + r.lossAfter());
            assertEquals(5, r.probabilities().length);
            assertEquals(null, r.abandoned());
        }
        // each steered step evaluates once per update plus once to see the target met (or for the final telemetry)
        int evaluations = steered.steering().stream().mapToInt(r -> r.iterations() + 1).sum();
        assertEquals(6 + evaluations, steered.timings().unetCalls());
        assertTrue(steered.timings().steering().toNanos() > 0);
        assertNotEquals(vanilla.finalLatents()[0], steered.finalLatents()[0], "steering changed the latent");
        Map<String, String> text = PngImages.readText(steered.save(tmp.resolve("steered.png")));
        assertEquals("[(dog, to the right of, teddy bear)]", text.get("steering_relations"));
        assertTrue(text.get("steering_summary").startsWith("3 steps steered"), text.get("steering_summary"));
        assertFalse(PngImages.readText(vanilla.save(tmp.resolve("vanilla.png"))).containsKey("steering_relations"));
    }

    @Test
    void writesHeatmapPicturesOfEachSteeredStepBesideVanilla() throws Exception {
        Path dir = tmp.resolve("pictures");
        SteeringRequest steering = SteeringRequest.of(RelationTriplet.of("cup", SpatialRelation.ABOVE, "book"))
                .withConfig(SteeringConfig.DEFAULTS.withMaxIterations(1)).withPictures(dir);
        GenerationResult r = sd.generate(request("a red cup and a blue book").optSteering(steering).build());
        assertEquals(dir.toString(), r.metadata().get("steering_pictures"));
        for (String f : List.of("step-00.png", "step-01.png", "step-02.png", "final.png")) {
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(dir.resolve(f).toFile());
            assertTrue(img.getWidth() > 128 && img.getHeight() > 128, f);
            assertEquals("a red cup and a blue book", PngImages.readText(dir.resolve(f)).get("prompt"));
        }
        assertFalse(Files.exists(dir.resolve("step-03.png")), "only steered steps are pictured");
    }

    @Test
    void explicitTripletsNeedTheirWordsInThePrompt() {
        SteeringRequest steering = SteeringRequest.of(RelationTriplet.of("cat", SpatialRelation.ABOVE, "dog"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sd.generate(request("a photo of a dog and a bird").optSteering(steering).build()));
        assertTrue(e.getMessage().contains("cat") && e.getMessage().contains("a photo of a dog and a bird"), e.getMessage());
    }

    @Test
    void promptWithoutARelationCannotBeSteeredFromThePrompt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sd.generate(request("a photo of a dog").optSteering(SteeringRequest.fromPrompt()).build()));
        assertTrue(e.getMessage().contains("no spatial relation"), e.getMessage());
    }

    @Test
    void unsupportedRelationPhraseIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sd.generate(request("a dog behind a cat").optSteering(SteeringRequest.fromPrompt()).build()));
        assertTrue(e.getMessage().contains("behind"), e.getMessage());
    }
}
