package dev.steer.pytorch.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.steer.pytorch.internal.nn.Scalars;
import java.util.Random;

/**
 * diffusers' {@code DiagonalGaussianDistribution}: the VAE encoder's posterior over latents,
 * unscaled (multiply a sample or the mean by the config's {@code scaling_factor} before giving it to
 * the diffusion model).
 *
 * @param mean the mean [B, latent, H/f, W/f]
 * @param logvar the log-variance, clamped to [-30, 20] as diffusers does, same shape
 */
public record LatentDistribution(NDArray mean, NDArray logvar) {

    /** The standard deviation exp(logvar / 2). */
    public NDArray std() {
        return Scalars.mul(logvar, 0.5f).exp();
    }

    /** The most likely latent (the mean). */
    public NDArray mode() {
        return mean;
    }

    /** mean + std * noise, for caller-supplied standard normal {@code noise} of the mean's shape. */
    public NDArray sample(NDArray noise) {
        return mean.add(std().mul(noise));
    }

    /**
     * A sample with noise drawn from {@code java.util.Random(seed)} (reproducible across engines
     * and devices, but not the same numbers as a torch generator).
     */
    public NDArray sample(long seed) {
        Random rnd = new Random(seed);
        float[] noise = new float[Math.toIntExact(mean.getShape().size())];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) rnd.nextGaussian();
        }
        NDArray n = mean.getManager().create(noise, mean.getShape()).toDevice(mean.getDevice(), false);
        return sample(n.toType(mean.getDataType(), false));
    }
}
