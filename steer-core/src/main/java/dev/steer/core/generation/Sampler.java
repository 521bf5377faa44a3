package dev.steer.core.generation;

import java.util.List;

/**
 * Generates images from text with one loaded diffusion model: encodes the prompts, runs the
 * denoising loop with the model family's guidance (calling a {@link dev.steer.core.steering.Steerer}
 * at the steps it steers, when steering is asked), decodes the latent. Every backend's pipeline is
 * one: {@link dev.steer.core.engine.GenerationEngine} runs the loop over a backend's
 * {@link dev.steer.core.engine.DiffusionBackend}. It owns native memory, so close it when done.
 */
public interface Sampler extends AutoCloseable {

    /**
     * Generates one image.
     *
     * @throws GenerationCancelledException when the request's cancellation or a thread interrupt stopped it
     */
    GenerationResult generate(GenerationRequest request);

    /**
     * Generates several images in one call (for example one prompt with a list of seeds, see
     * {@link GenerationRequest#withSeeds}), reusing the loaded model and encoding each distinct
     * prompt once (the encodings are held until the call returns: split very many distinct prompts
     * into several calls). Results come in request order.
     *
     * @throws GenerationCancelledException when a request's cancellation or a thread interrupt stopped the
     *     call (no results are returned then)
     */
    List<GenerationResult> generateAll(List<GenerationRequest> requests);

    /**
     * The settings the loaded model family is meant to run with (steps, guidance, size, steering), for
     * programs whose users leave them out. Stable Diffusion's unless the sampler says otherwise.
     */
    default ModelDefaults defaults() {
        return ModelDefaults.stableDiffusion(512);
    }

    /** A short description of the loaded model (folder name, architecture), for logs and PNG metadata. */
    String modelDescription();

    /** Releases the model's native memory. */
    @Override
    void close();
}
