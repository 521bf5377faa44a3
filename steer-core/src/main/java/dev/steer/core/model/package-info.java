/**
 * Model folders and their configs, read and checked before anything is loaded.
 * {@link dev.steer.core.model.ModelFolder} resolves the diffusers layout of a Stable Diffusion download;
 * the config records ({@link dev.steer.core.model.UNetConfig}, {@link dev.steer.core.model.VaeConfig},
 * {@link dev.steer.core.model.ClipTextConfig}, {@link dev.steer.core.model.T5Config},
 * {@link dev.steer.core.model.FluxTransformerConfig}) read the {@code config.json} files and refuse, by
 * name, options this library does not implement; {@link dev.steer.core.model.MemoryBudget} fails early
 * when a model would not fit. Problems are reported as
 * {@link dev.steer.core.model.ModelConfigException}s naming the file.
 */
package dev.steer.core.model;
