package dev.steer.pytorch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.engine.Backends;
import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.Sampler;
import dev.steer.core.image.PngImages;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import dev.steer.core.steering.SteeringStepReport;
import dev.steer.core.testing.Conformance;
import dev.steer.pytorch.testing.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FLUX through the one generation engine: generation, steering with T5 word binding, telemetry,
 * pictures and PNG metadata, on the tiny FLUX folder (4 blocks x 2 heads = 8 maps per word) with the
 * published classifier architecture pinned to 8 maps.
 */
class FluxSteeringTest {
    @TempDir
    static Path tmp;
    private static Path folder;
    private static FluxPipeline flux;

    @BeforeAll
    static void load() throws Exception {
        folder = TinyModels.fluxFolder(tmp.resolve("flux"), false);
        flux = FluxPipeline.builder().setModelFolder(folder)
                .optRelationClassifier(Conformance.referenceClassifierFor(tmp.resolve("classifier"), 8)).build();
    }

    @AfterAll
    static void close() {
        flux.close();
    }

    private static GenerationRequest.Builder request(String prompt) {
        return GenerationRequest.builder(prompt).optSteps(4).optGuidanceScale(3.5f).optSize(64, 64).optSeed(3);
    }

    @Test
    void steersTheFirstStepsWithT5WordBindingAndReportsEachStep() throws Exception {
        // random classifier weights give gradients ~1e-4 in norm: the step size is scaled to match
        SteeringRequest steering = SteeringRequest.fromPrompt()
                .withConfig(SteeringConfig.DEFAULTS.withMaxIterations(3).withStepSize(1e3f));
        String prompt = "a photo of a dog to the right of a teddy bear";
        GenerationResult steered = flux.generate(request(prompt).optSteering(steering).build());
        GenerationResult vanilla = flux.generate(request(prompt).build());
        assertEquals(2, steered.steering().size(), "steps 0 and 1 of 4 are steered");
        for (SteeringStepReport r : steered.steering()) {
            assertTrue(r.iterations() >= 1 && r.iterations() <= 3, r.toString());
            assertTrue(r.lossAfter() < r.lossBefore(), "loss " + r.lossBefore() + " -> " + r.lossAfter());
            assertNull(r.abandoned());
        }
        int evaluations = steered.steering().stream().mapToInt(r -> r.iterations() + 1).sum();
        assertEquals(4 + evaluations, steered.timings().unetCalls());
        assertNotEquals(vanilla.finalLatents()[0], steered.finalLatents()[0], "steering changed the latent");
        Map<String, String> text = PngImages.readText(steered.save(tmp.resolve("steered.png")));
        assertEquals("[(dog, to the right of, teddy bear)]", text.get("steering_relations"));
        assertTrue(text.get("model").contains("FLUX.1 [dev]"), text.get("model"));
        assertEquals(16 * 16 * 16, steered.finalLatents().length, "latents in the VAE's layout [16, 16, 16]");
    }

    @Test
    void writesHeatmapPicturesOfTheSteeredStepsBesideVanilla() throws Exception {
        Path dir = tmp.resolve("pictures");
        SteeringRequest steering = SteeringRequest.of(RelationTriplet.of("cat", SpatialRelation.ABOVE, "dog"))
                .withConfig(SteeringConfig.DEFAULTS.withMaxIterations(1)).withPictures(dir);
        flux.generate(request("a red cat and a blue dog").optSteering(steering).build());
        for (String f : List.of("step-00.png", "step-01.png", "final.png")) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), f);
        }
        assertFalse(Files.exists(dir.resolve("step-02.png")), "only steered steps are pictured");
    }

    @Test
    void theModelsDefaultsAreThePublishedOnes() {
        assertEquals(50, flux.defaults().steps(), "the tiny transformer embeds guidance: [dev]");
        assertEquals(3.5f, flux.defaults().guidanceScale());
        assertEquals(512, flux.defaults().imageSize());
        assertTrue(flux.defaults().steering().isSteered(24, 50) && !flux.defaults().steering().isSteered(25, 50));
        var schnell = FluxPipeline.defaultsFor(false);
        assertEquals(4, schnell.steps());
        assertEquals(0f, schnell.guidanceScale());
        assertEquals(256, schnell.imageSize());
        assertTrue(schnell.steering().isSteered(0, 4) && !schnell.steering().isSteered(1, 4), "schnell steers the first step only");
    }

    @Test
    void aFluxClassifierOnSdAndAnSdClassifierOnFluxAreRefusedNamingTheFile() throws Exception {
        Path fluxClassifier = Conformance.dir("classifier-flux-reference").resolve("classifier.pth");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StableDiffusion.builder()
                .setModelFolder(TinyModels.folder(tmp.resolve("sd"))).optRelationClassifier(fluxClassifier).build());
        assertTrue(e.getMessage().contains(fluxClassifier.toString()) && e.getMessage().contains("1368"), e.getMessage());
        Path sdClassifier = Conformance.referenceClassifierFor(tmp.resolve("sd-classifier"), 44);
        e = assertThrows(IllegalArgumentException.class,
                () -> FluxPipeline.builder().setModelFolder(folder).optRelationClassifier(sdClassifier).build());
        assertTrue(e.getMessage().contains(sdClassifier.toString()) && e.getMessage().contains("44")
                && e.getMessage().contains(" 8 "), e.getMessage());
    }

    @Test
    void theLibTorchBackendOpensAFluxFolderLikeAnSdFolder() {
        try (Sampler s = Backends.open("pytorch", SamplerOptions.of(folder))) {
            assertTrue(s instanceof FluxPipeline, s.getClass().getName());
            assertTrue(s.modelDescription().contains("FLUX.1"));
        }
    }
}
