package dev.steer.pytorch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.ModelDefaults;
import dev.steer.core.shapeworld.ShapeBench;
import dev.steer.core.shapeworld.ShapeDetector;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import dev.steer.core.testing.Conformance;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The committed FLUX-architecture ShapeWorld model ({@code models/shapeworld-flux}) loads through the
 * same builder as a user's FLUX.1 folder, unchanged, generates, and its classifier steers it: the
 * README's example, checked by the exact ShapeWorld detector.
 */
class EmbeddedFluxModelTest {

    @Test
    void loadsThroughTheFluxBuilderWithItsDeclaredT5LengthAndGeneratesWithClassifierFreeGuidance() throws Exception {
        Path model = Conformance.testdata().getParent().resolve("models/shapeworld-flux");
        assertTrue(Files.isDirectory(model), "the FLUX ShapeWorld model is committed at " + model);
        try (FluxPipeline flux = FluxPipeline.builder().setModelFolder(model).build()) {
            assertFalse(flux.embedsGuidance());
            assertEquals(32, flux.tokenizer().maxLength());
            assertEquals(2, flux.vaeScaleFactor());
            GenerationResult r = flux.generate(GenerationRequest.builder("a photo of a red circle left of a blue square")
                    .optSize(32, 32).optSteps(4).optGuidanceScale(5f).optSeed(0).build());
            assertEquals(32, r.image().getWidth());
            assertEquals(32, r.image().getHeight());
        }
    }

    @Test
    void itsClassifierPutsTheSquareAboveTheCircleWhereTheVanillaImageDoesNot() {
        Path model = Conformance.testdata().getParent().resolve("models/shapeworld-flux");
        Path classifier = model.resolve("classifier");
        ShapeBench.Prompt prompt = ShapeBench.standardPrompts().get(0);
        assertEquals("a photo of a purple square above a red circle", prompt.prompt());
        try (FluxPipeline flux = FluxPipeline.builder().setModelFolder(model).optRelationClassifier(classifier).build()) {
            ModelDefaults d = flux.defaults();
            assertEquals(40, d.steps());
            assertEquals(3f, d.guidanceScale());
            GenerationRequest vanilla = GenerationRequest.builder(prompt.prompt()).optSteps(d.steps()).optGuidanceScale(d.guidanceScale())
                    .optSeed(10).build();
            ShapeBench.Score before = ShapeBench.score(flux.generate(vanilla).image(), prompt, ShapeDetector.DEFAULT);
            assertFalse(before.positionCorrect(), "the vanilla image of seed 10 already has the square above the circle");
            SteeringConfig config = SteeringConfig.recommendedFor(classifier, d.steering(), "pytorch");
            assertEquals(16, config.noiseCandidates());
            assertEquals(0.25, config.endFraction(), 1e-9);
            GenerationResult steered = flux.generate(GenerationRequest.builder(prompt.prompt()).optSteps(d.steps())
                    .optGuidanceScale(d.guidanceScale()).optSeed(10).optSteering(SteeringRequest.of(prompt.triplet()).withConfig(config)).build());
            ShapeBench.Score after = ShapeBench.score(steered.image(), prompt, ShapeDetector.DEFAULT);
            assertTrue(after.objectsPresent() && after.positionCorrect(), "steered: " + after + ", " + steered.metadata());
        }
    }
}
