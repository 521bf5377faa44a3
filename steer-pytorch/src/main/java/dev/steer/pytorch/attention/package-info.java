/**
 * The LibTorch attention probe: {@link dev.steer.pytorch.attention.TorchAttentionProbe} keeps the chosen
 * words' cross-attention maps differentiably, so that the steering loss can be back-propagated to the
 * latent, and lays them out as the relation classifier expects.
 */
package dev.steer.pytorch.attention;
