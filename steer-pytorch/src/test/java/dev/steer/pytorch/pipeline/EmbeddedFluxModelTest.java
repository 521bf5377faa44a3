package dev.steer.pytorch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.testing.Conformance;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The committed FLUX-architecture ShapeWorld model ({@code models/shapeworld-flux}, in training)
 * loads through the same builder as a user's FLUX.1 folder, unchanged, and generates. What it draws
 * is not checked yet: the weights are an early checkpoint (see its model card).
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
}
