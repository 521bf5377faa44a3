/**
 * Internal, not API (may change in any release): FLUX.1's latent layout, independent of any tensor library: {@link dev.steer.core.internal.flux.FluxLatents} packs
 * VAE latents into 2x2 tokens and back and builds the position ids of the image and text tokens, as
 * diffusers' {@code FluxPipeline} does.
 */
package dev.steer.core.internal.flux;
