package dev.steer.core.engine;

import dev.steer.core.generation.Sampler;

/**
 * A backend's entry point for {@link Backends}, found with {@link java.util.ServiceLoader}: each
 * backend module registers one in {@code META-INF/services/dev.steer.core.engine.SamplerProvider}.
 */
public interface SamplerProvider {

    /** The backend's name as programs accept it ("pytorch", "onnx"). */
    String name();

    /**
     * Loads a model into a sampler of this backend.
     *
     * @throws IllegalArgumentException for an option this backend does not support, naming it
     */
    Sampler open(SamplerOptions options);
}
