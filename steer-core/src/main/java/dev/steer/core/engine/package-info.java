/**
 * The one generation loop every backend shares, and how a backend is chosen at run time.
 * {@link dev.steer.core.engine.GenerationEngine} runs prompt encoding, seeded noise, the scheduler
 * steps with guidance, steering, pictures, progress and cancellation over a backend's
 * {@link dev.steer.core.engine.DiffusionBackend}. {@link dev.steer.core.engine.Backends#open} opens a
 * {@link dev.steer.core.generation.Sampler} by backend name ({@code "pytorch"}, {@code "onnx"}) from
 * {@link dev.steer.core.engine.SamplerOptions}, with whichever backend modules are on the class path
 * (each registers a {@link dev.steer.core.engine.SamplerProvider}).
 */
package dev.steer.core.engine;
