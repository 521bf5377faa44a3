/**
 * Images in and out: {@link dev.steer.core.image.PngImages} writes PNG files whose text chunks carry the
 * prompt, seed and settings and converts decoder output to images; {@link dev.steer.core.image.Heatmaps}
 * draws attention maps over images for inspecting what steering does.
 */
package dev.steer.core.image;
