/**
 * T5's encoder on LibTorch: {@link dev.steer.pytorch.t5.T5EncoderModel}, transformers' {@code T5EncoderModel}
 * (FLUX.1's second text encoder, T5-XXL v1.1) with parameters named as in its checkpoint.
 */
package dev.steer.pytorch.t5;
