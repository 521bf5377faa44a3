/**
 * Inversion of real images to the noise a model would denoise back into them, and the reconstruction
 * that checks it: the data side of Learn-to-Steer's dual inversion. {@link dev.steer.pytorch.inversion.ImageInversion}
 * is the common contract; {@link dev.steer.pytorch.inversion.DdimInversion} serves Stable Diffusion and
 * {@link dev.steer.pytorch.inversion.FlowMatchInversion} FLUX.1.
 */
package dev.steer.pytorch.inversion;
