/**
 * What the LibTorch models are built on: a {@link dev.steer.pytorch.nn.Module} tree whose
 * {@link dev.steer.pytorch.nn.Weight}s are named after the reference checkpoints' keys, and
 * {@link dev.steer.pytorch.nn.GradientSection}, the one lock around DJL's process-wide gradient
 * collector, which code of your own must use when it records gradients while a pipeline may be steering
 * on another thread. The layers themselves (linear, convolution, norms, attention, embeddings,
 * activations) are internal.
 */
package dev.steer.pytorch.nn;
