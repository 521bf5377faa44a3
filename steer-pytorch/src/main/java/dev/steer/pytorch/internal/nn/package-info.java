/**
 * Internal, not API (may change in any release): the layers of the LibTorch models on DJL arrays
 * (linear, convolution, norms, attention, embeddings, activations) as PyTorch and diffusers define them,
 * each a {@link dev.steer.pytorch.nn.Module}, and the helpers that keep gradients exact on DJL (for
 * example {@link dev.steer.pytorch.internal.nn.Scalars}, {@link dev.steer.pytorch.internal.nn.Bfloat16}).
 */
package dev.steer.pytorch.internal.nn;
