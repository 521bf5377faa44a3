package dev.steer.core.generation;

import dev.steer.core.image.PngImages;
import dev.steer.core.steering.SteeringStepReport;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The outcome of one generation.
 *
 * @param image the decoded image
 * @param request what was asked
 * @param finalLatents the denoised latent, flattened [C * H * W]
 * @param timings where the time went
 * @param steering one report per steered step (empty without steering)
 * @param metadata text written into the PNG (prompt, seed, model, scheduler, settings)
 */
public record GenerationResult(BufferedImage image, GenerationRequest request, float[] finalLatents, StageTimings timings,
        List<SteeringStepReport> steering, Map<String, String> metadata) {

    /** Writes the image as PNG with {@link #metadata} in its text chunks. */
    public Path save(Path file) throws IOException {
        PngImages.write(image, metadata, file);
        return file;
    }
}
