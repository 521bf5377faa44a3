/**
 * Cross-attention maps as the relation classifier reads them. {@link dev.steer.core.attention.AttentionProbe}
 * is the backend-neutral contract a denoiser call reports its cross-attention layers
 * ({@link dev.steer.core.attention.CrossAttentionLayer}) to; it keeps the maps of the chosen words and
 * lays them out as the published Learn-to-Steer probes do (per word: resolution ascending, then layer
 * in execution order, then head), resampled with {@link dev.steer.core.internal.attention.BilinearResize}.
 */
package dev.steer.core.attention;
