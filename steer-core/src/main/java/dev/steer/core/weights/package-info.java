/**
 * {@link dev.steer.core.weights.WeightsFormatException}: what every weights reader throws for a file it
 * cannot use (safetensors, sharded safetensors, {@code torch.save} checkpoints), naming the file and the
 * problem. The readers themselves are internal.
 */
package dev.steer.core.weights;
