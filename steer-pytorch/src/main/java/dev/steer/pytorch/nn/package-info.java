/**
 * The building blocks of the LibTorch models, on DJL arrays: a {@link dev.steer.pytorch.nn.Module} tree whose
 * {@link dev.steer.pytorch.nn.Weight}s are named after the reference checkpoints' keys, the layers
 * (linear, convolution, norms, attention, embeddings, activations) as PyTorch and diffusers define
 * them, and the helpers that keep gradients exact on DJL (for example
 * {@link dev.steer.pytorch.nn.GradientSection} and {@link dev.steer.pytorch.nn.Scalars}).
 */
package dev.steer.pytorch.nn;
