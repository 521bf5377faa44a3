package dev.steer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.engine.Backends;
import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.Sampler;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The ONNX export of the embedded model ({@code models/shapeworld-onnx}: diffusers + {@code
 * torch.onnx}, the standard toolchain) on ONNX Runtime gives the images LibTorch gives from the
 * diffusers folder ({@code models/shapeworld}) for the same prompts and seeds. Lives here because
 * this module has both backends.
 */
class OnnxExportMatchesLibTorchTest {
    private static final Path MODELS = Path.of(System.getProperty("user.dir")).getParent().resolve("models");

    @Test
    void unsteeredGenerationsMatchLibTorchsToFloatTolerance() {
        String[] prompts = {"a photo of a purple square above a red circle", "a photo of a green triangle left of a blue square",
            "a photo of a yellow circle right of a red triangle"};
        long[] seeds = {0, 7, 2027};
        try (Sampler torch = Backends.open("pytorch", SamplerOptions.of(MODELS.resolve("shapeworld")));
                Sampler onnx = Backends.open("onnx", SamplerOptions.of(MODELS.resolve("shapeworld-onnx")))) {
            for (int i = 0; i < prompts.length; i++) {
                GenerationRequest request = GenerationRequest.builder(prompts[i]).optSteps(20).optGuidanceScale(5f).optSeed(seeds[i]).build();
                GenerationResult a = torch.generate(request);
                GenerationResult b = onnx.generate(request);
                float[] x = a.finalLatents();
                float[] y = b.finalLatents();
                assertEquals(x.length, y.length);
                double maxDiff = 0;
                double maxAbs = 0;
                for (int k = 0; k < x.length; k++) {
                    maxDiff = Math.max(maxDiff, Math.abs(x[k] - y[k]));
                    maxAbs = Math.max(maxAbs, Math.abs(x[k]));
                }
                assertTrue(maxDiff <= 1e-3 * maxAbs, prompts[i] + " seed " + seeds[i] + ": final latents differ by " + maxDiff
                        + " (largest value " + maxAbs + ")");
                int worst = 0;
                for (int py = 0; py < a.image().getHeight(); py++) {
                    for (int px = 0; px < a.image().getWidth(); px++) {
                        int p = a.image().getRGB(px, py);
                        int q = b.image().getRGB(px, py);
                        for (int s = 0; s < 24; s += 8) {
                            worst = Math.max(worst, Math.abs(((p >> s) & 255) - ((q >> s) & 255)));
                        }
                    }
                }
                assertTrue(worst <= 1, prompts[i] + " seed " + seeds[i] + ": pixels differ by up to " + worst + " levels");
            }
        }
    }
}
