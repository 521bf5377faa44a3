/**
 * FLUX.1's denoiser on LibTorch: {@link dev.steer.pytorch.flux.FluxTransformer2DModel}, diffusers'
 * MMDiT with rotary position embeddings, built from its config with parameters named as in the
 * checkpoint; {@link dev.steer.pytorch.flux.FluxDenoiser} calls it on latents in the VAE's layout, and
 * {@link dev.steer.pytorch.flux.JointAttentionHook} is where an attention probe reads its image-to-text
 * maps. The pipeline is {@link dev.steer.pytorch.pipeline.FluxPipeline}.
 */
package dev.steer.pytorch.flux;
