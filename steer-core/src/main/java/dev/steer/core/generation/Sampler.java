package dev.steer.core.generation;

/**
 * Generates images from text with one loaded diffusion model: encodes the prompts, runs the
 * denoising loop with classifier-free guidance (calling a {@link dev.steer.core.steering.Steerer}
 * at the steps it steers, when one is configured), decodes the latent. Each backend implements
 * it; it owns native memory, so close it when done.
 */
public interface Sampler extends AutoCloseable {

    /** Generates one image. */
    GenerationResult generate(GenerationRequest request);

    /** A short description of the loaded model (folder name, architecture), for logs and PNG metadata. */
    String modelDescription();

    /** Releases the model's native memory. */
    @Override
    void close();
}
