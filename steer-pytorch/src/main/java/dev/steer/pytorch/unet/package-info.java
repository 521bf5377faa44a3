/**
 * Stable Diffusion's denoiser on LibTorch: {@link dev.steer.pytorch.unet.UNet2DConditionModel}, diffusers'
 * UNet for SD 1.x and 2.x built from its config with parameters named as in the checkpoint, and its
 * blocks; {@link dev.steer.pytorch.unet.CrossAttentionHook} receives the cross-attention probabilities
 * an attention probe reads.
 */
package dev.steer.pytorch.unet;
