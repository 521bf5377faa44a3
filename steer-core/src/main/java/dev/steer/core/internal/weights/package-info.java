/**
 * Internal, not API (may change in any release): weight files read without executing anything and within
 * checked bounds: safetensors files (single and sharded, read and written), and {@code torch.save}
 * checkpoints such as the published Learn-to-Steer {@code .pth} files, whose pickle is read by a
 * restricted unpickler, and the relation classifier checkpoints read from them. Files that cannot be
 * used raise a {@link dev.steer.core.weights.WeightsFormatException} naming the file; values from
 * untrusted files are quoted in messages through {@link dev.steer.core.internal.weights.UntrustedText}.
 */
package dev.steer.core.internal.weights;
