/**
 * The LibTorch pipelines, where most users start: {@link dev.steer.pytorch.pipeline.StableDiffusion}
 * ({@code StableDiffusion.builder()}) for Stable Diffusion 1.x and 2.x folders and
 * {@link dev.steer.pytorch.pipeline.FluxPipeline} ({@code FluxPipeline.builder()}) for FLUX.1 [schnell]
 * and [dev] folders, both {@link dev.steer.core.generation.Sampler}s with exact-gradient steering.
 * {@link dev.steer.pytorch.pipeline.TorchSamplerProvider} registers this backend as {@code "pytorch"}
 * for {@link dev.steer.core.engine.Backends}.
 */
package dev.steer.pytorch.pipeline;
