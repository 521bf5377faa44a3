package dev.steer.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import dev.steer.onnx.steering.GradientEstimator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Steered generation on ONNX Runtime with the LibTorch backend's request, settings, listener, reports and metadata. */
class OnnxSteeredGenerationTest {
    @TempDir
    static Path tmp;

    private static OnnxStableDiffusion sd;

    private static final String PROMPT = "a red circle left of a blue square";

    @BeforeAll
    static void load() throws Exception {
        Path folder = TinyOnnxFolders.create(tmp.resolve("tiny"));
        TinyOnnxFolders.useTinyVocabulary(folder);
        sd = OnnxStableDiffusion.builder().setModelFolder(folder)
                .optRelationClassifier(Conformance.referenceClassifierFor(tmp.resolve("classifier"), tinyMaps(folder)))
                .optGradientBudget(4)
                .build();
    }

    private static int tinyMaps(Path folder) {
        try (OnnxStableDiffusion plain = OnnxStableDiffusion.builder().setModelFolder(folder).build()) {
            return AttentionProbe.mapsPerWord(plain.unet().crossAttentionLayers());
        }
    }

    @Test
    void aClassifierForAnotherModelIsRefusedWhenThePipelineIsBuilt() {
        Path folder = tmp.resolve("tiny");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxStableDiffusion.builder()
                .setModelFolder(folder).optRelationClassifier(Conformance.dir("classifier-sd2-reference").resolve("classifier.pth")).build());
        assertTrue(e.getMessage().contains("reads 1368 maps per word") && e.getMessage().contains("produces " + tinyMaps(folder)),
                e.getMessage());
    }

    @AfterAll
    static void close() {
        if (sd != null) {
            sd.close();
        }
    }

    private static GenerationRequest request(SteeringRequest steering) {
        return GenerationRequest.builder(PROMPT).optSteps(4).optSeed(3).optSteering(steering).build();
    }

    private static SteeringConfig config() {
        // steps 0 and 1 of 4, two updates each; a large step size because the fixture's gradients are tiny
        return SteeringConfig.DEFAULTS.withRange(0, 0.5).withMaxIterations(2).withStepSize(5000f);
    }

    @Test
    void steersWithRelationsParsedFromThePromptAndReportsLikeTheTorchBackend() throws Exception {
        List<SteeringStepReport> heard = new ArrayList<>();
        GenerationResult r = sd.generate(request(SteeringRequest.fromPrompt().withConfig(config()).withListener(heard::add)));
        assertEquals(4, sd.gradientEstimator().budget());
        assertEquals(2, r.steering().size());
        assertEquals(r.steering(), heard);
        for (SteeringStepReport s : r.steering()) {
            assertEquals(2, s.iterations());
            assertEquals(5, s.probabilities().length);
            assertTrue(s.abandoned() == null, s.abandoned());
            assertTrue(Float.isFinite(s.lossBefore()) && Float.isFinite(s.lossAfter()));
        }
        // 4 guided steps + per steered step 2 updates (each a loss read, then a batched estimate) and 1 loss-only telemetry call
        assertEquals(4 + 2 * (2 * 2 + 1), r.timings().unetCalls());
        assertEquals(4 + 2 * (2 * (1 + 9) + 1), r.timings().latentEvaluations());
        assertTrue(r.timings().steering().toNanos() > 0);
        Map<String, String> text = PngImages.readText(r.save(tmp.resolve("steered.png")));
        assertEquals("[(circle, to the left of, square)]", text.get("steering_relations"));
        assertEquals(config().toString(), text.get("steering_config"));
        assertTrue(text.get("steering_summary").startsWith("2 steps steered, 10 evaluations, loss "), text.get("steering_summary"));
        assertTrue(text.get("steering_gradient").contains("4 orthogonal directions") && text.get("steering_gradient").contains("9 latents"),
                text.get("steering_gradient"));

        GenerationResult again = sd.generate(request(SteeringRequest.fromPrompt().withConfig(config())));
        assertArrayEquals(r.finalLatents(), again.finalLatents(), "seeded directions: the same request gives the same image");
        GenerationResult vanilla = sd.generate(request(null));
        assertFalse(java.util.Arrays.equals(r.finalLatents(), vanilla.finalLatents()), "steering changed the latent");
        assertTrue(vanilla.steering().isEmpty());
        assertTrue(!vanilla.metadata().containsKey("steering_summary"));
    }

    @Test
    void explicitTripletsAreUsedAsGiven() {
        SteeringRequest steering = SteeringRequest.of(RelationTriplet.of("square", SpatialRelation.ABOVE, "circle"))
                .withConfig(config().withMaxIterations(1).withFinalEvaluation(false));
        GenerationResult r = sd.generate(request(steering));
        assertEquals("[(square, above, circle)]", r.metadata().get("steering_relations"));
        assertEquals(4 + 2 * 2, r.timings().unetCalls()); // per steered step a loss read and an estimate
    }

    @Test
    void writesHeatmapPicturesOfEachSteeredStepBesideVanilla() throws Exception {
        Path dir = tmp.resolve("pictures");
        GenerationResult r = sd.generate(request(SteeringRequest.fromPrompt().withConfig(config()).withPictures(dir)));
        assertEquals(dir.toString(), r.metadata().get("steering_pictures"));
        for (String f : List.of("step-00.png", "step-01.png", "final.png")) {
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(dir.resolve(f).toFile());
            assertTrue(img.getWidth() >= 128 && img.getHeight() >= 128, f);
            assertEquals(PROMPT, PngImages.readText(dir.resolve(f)).get("prompt"));
        }
        assertFalse(java.nio.file.Files.exists(dir.resolve("step-02.png")), "only steered steps are pictured");
    }

    @Test
    void aPromptWithoutARelationOrAWordMissingFromItIsNamed() {
        assertThrows(IllegalArgumentException.class,
                () -> sd.generate(GenerationRequest.builder("a red circle").optSteps(2).optSteering(SteeringRequest.fromPrompt()).build()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sd.generate(request(
                SteeringRequest.of(RelationTriplet.of("dog", SpatialRelation.LEFT_OF, "square")))));
        assertTrue(e.getMessage().contains("dog"), e.getMessage());
    }

    @Test
    void theEstimatorCanSplitTheBatchAcrossCalls() throws Exception {
        Path folder = TinyOnnxFolders.create(tmp.resolve("tiny-split"));
        TinyOnnxFolders.useTinyVocabulary(folder);
        try (OnnxStableDiffusion split = OnnxStableDiffusion.builder().setModelFolder(folder)
                .optRelationClassifier(Conformance.referenceClassifierFor(tmp.resolve("classifier-split"), tinyMaps(folder)))
                .optGradientEstimator(GradientEstimator.WHOLE_LATENT.withBudget(4).withMaxBatch(3)).build()) {
            GenerationResult a = split.generate(request(SteeringRequest.fromPrompt().withConfig(config())));
            GenerationResult b = sd.generate(request(SteeringRequest.fromPrompt().withConfig(config())));
            // 9 latents in calls of 3: 3 calls per estimate, after a loss read; same directions, so (nearly) the same result
            assertEquals(4 + 2 * (2 * (1 + 3) + 1), a.timings().unetCalls());
            assertEquals(b.steering().get(1).lossAfter(), a.steering().get(1).lossAfter(), 1e-4);
        }
    }
}
