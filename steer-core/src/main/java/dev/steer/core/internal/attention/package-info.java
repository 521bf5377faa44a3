/**
 * Internal, not API (may change in any release): resampling of attention maps
 * ({@link dev.steer.core.internal.attention.BilinearResize}, PyTorch's bilinear interpolation) shared by
 * the backends' probes.
 */
package dev.steer.core.internal.attention;
