/**
 * The variational autoencoder on LibTorch: {@link dev.steer.pytorch.vae.AutoencoderKL}, diffusers' VAE of
 * SD 1.x, SD 2.x and FLUX.1, encoding images to a {@link dev.steer.pytorch.vae.LatentDistribution} and
 * decoding latents to images.
 */
package dev.steer.pytorch.vae;
