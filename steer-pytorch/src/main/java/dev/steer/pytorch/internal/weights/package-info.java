/**
 * Internal, not API (may change in any release): loading weights into LibTorch models:
 * {@link dev.steer.pytorch.internal.weights.ModelWeights} puts safetensors tensors (memory-mapped,
 * converted from float16 or bfloat16 in LibTorch) or seeded random values into a module's parameters,
 * kept as a {@link dev.steer.pytorch.weights.WeightStorage} chooses.
 */
package dev.steer.pytorch.internal.weights;
