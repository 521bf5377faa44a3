/**
 * The public face of text-to-image generation, the same for every backend and model family. A
 * {@link dev.steer.core.generation.Sampler} (built by a backend: {@code StableDiffusion.builder()},
 * {@code FluxPipeline.builder()}, {@code OnnxStableDiffusion.builder()}, or
 * {@link dev.steer.core.engine.Backends#open}) turns a {@link dev.steer.core.generation.GenerationRequest}
 * (start with {@link dev.steer.core.generation.GenerationRequest#builder(String)}) into a
 * {@link dev.steer.core.generation.GenerationResult}: the image, its PNG metadata, timings and, when
 * the request asked for steering, one report per steered step. Progress listeners, cancellation and
 * the seeded initial noise live here too.
 */
package dev.steer.core.generation;
