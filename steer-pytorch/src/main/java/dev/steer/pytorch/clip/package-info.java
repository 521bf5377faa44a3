/**
 * CLIP's text encoder on LibTorch: {@link dev.steer.pytorch.clip.ClipTextModel}, transformers'
 * {@code CLIPTextModel} (Stable Diffusion's text encoder and FLUX.1's first one) with parameters named
 * as in its checkpoint, and its outputs ({@link dev.steer.pytorch.clip.ClipTextOutput}).
 */
package dev.steer.pytorch.clip;
