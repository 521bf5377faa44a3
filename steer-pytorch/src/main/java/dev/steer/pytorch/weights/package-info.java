/**
 * Loading weights into LibTorch models: {@link dev.steer.pytorch.weights.ModelWeights} puts safetensors
 * tensors (memory-mapped, converted from float16 or bfloat16 in LibTorch) or seeded random values into
 * a {@link dev.steer.pytorch.nn.Module}'s parameters, kept as a {@link dev.steer.pytorch.weights.WeightStorage}
 * chooses.
 */
package dev.steer.pytorch.weights;
