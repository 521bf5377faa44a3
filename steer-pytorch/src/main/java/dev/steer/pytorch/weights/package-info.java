/**
 * {@link dev.steer.pytorch.weights.WeightStorage}: how a pipeline keeps a model's weights in memory
 * (memory-mapped in the file's dtype, or copied to float32).
 */
package dev.steer.pytorch.weights;
