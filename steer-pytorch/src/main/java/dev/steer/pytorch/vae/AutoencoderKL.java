package dev.steer.pytorch.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.model.VaeConfig;
import dev.steer.pytorch.internal.nn.Conv2d;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.internal.nn.Scalars;

/**
 * diffusers' {@code AutoencoderKL}, the VAE of SD 1.x, SD 2.x and FLUX.1, built from its {@link VaeConfig}
 * with parameters named as in {@code vae/diffusion_pytorch_model.safetensors}. Encodes images to a
 * {@link LatentDistribution} and decodes latents to images, both differentiable. The 1x1
 * {@code quant_conv}/{@code post_quant_conv} exist only when the config asks for them (FLUX.1's VAE has
 * neither).
 *
 * <p>Neither {@link #encode} nor {@link #decode} applies {@code scaling_factor}/{@code shift_factor}: encode
 * returns the raw posterior and decode expects raw latents. {@link #scaleLatents} and
 * {@link #unscaleLatents} convert between raw and diffusion latents ({@link VaeConfig#scaleLatents} and
 * {@link VaeConfig#unscaleLatents} on Java arrays), and {@link #decodeScaled} decodes diffusion latents.
 * Images are NCHW in [-1, 1]. Outputs land in the manager of the input.
 */
public final class AutoencoderKL extends Module {
    /** diffusers builds every VAE GroupNorm with this epsilon. */
    static final float EPS = 1e-6f;

    private final VaeConfig config;
    private final VaeEncoder encoder;
    private final VaeDecoder decoder;
    private final Conv2d quantConv;
    private final Conv2d postQuantConv;

    /** Builds the module tree (without weights) for a config. */
    public AutoencoderKL(VaeConfig config) {
        this.config = config;
        encoder = child("encoder", new VaeEncoder(config, EPS));
        decoder = child("decoder", new VaeDecoder(config, EPS));
        int latent = config.latentChannels();
        quantConv = config.useQuantConv() ? child("quant_conv", new Conv2d(2L * latent, 2L * latent, 1, 1, 0)) : null;
        postQuantConv = config.usePostQuantConv() ? child("post_quant_conv", new Conv2d(latent, latent, 1, 1, 0)) : null;
    }

    /**
     * Encoder latents to diffusion latents: {@code (latents - shift_factor) * scaling_factor}, differentiable
     * (the shift only when non-zero, so SD's result is exactly {@code latents * scaling_factor}).
     */
    public NDArray scaleLatents(NDArray latents) {
        NDArray shifted = config.shiftFactor() == 0f ? latents : Scalars.add(latents, -config.shiftFactor());
        return Scalars.mul(shifted, config.scalingFactor());
    }

    /**
     * Diffusion latents to the decoder's input: {@code latents / scaling_factor + shift_factor}, as diffusers'
     * pipelines compute it before {@code vae.decode}; differentiable.
     */
    public NDArray unscaleLatents(NDArray latents) {
        NDArray z = Scalars.div(latents, config.scalingFactor());
        return config.shiftFactor() == 0f ? z : Scalars.add(z, config.shiftFactor());
    }

    /** Decodes diffusion (scaled, shifted) latents: {@code decode(unscaleLatents(latents))}. */
    public NDArray decodeScaled(NDArray latents) {
        return decode(unscaleLatents(latents));
    }

    /** The config this model was built from. */
    public VaeConfig config() {
        return config;
    }

    /**
     * Encodes images [B, in_channels, H, W] (values in [-1, 1], H and W multiples of
     * {@link VaeConfig#downsampleFactor()}) to the posterior over latents [B, latent, H/f, W/f].
     */
    public LatentDistribution encode(NDArray image) {
        Shape s = image.getShape();
        int f = config.downsampleFactor();
        if (s.dimension() != 4 || s.get(1) != config.inChannels() || s.get(2) % f != 0 || s.get(3) % f != 0) {
            throw new IllegalArgumentException("image must be [B, " + config.inChannels() + ", H, W] with H and W multiples of "
                    + f + ", got " + s);
        }
        NDArray moments = encoder.forward(image);
        if (quantConv != null) {
            moments = quantConv.forward(moments);
        }
        NDList parts = moments.split(2, 1);
        return new LatentDistribution(parts.get(0), parts.get(1).clip(-30f, 20f));
    }

    /**
     * Decodes raw (unscaled) latents [B, latent, h, w] to images [B, out_channels, h*f, w*f],
     * roughly in [-1, 1]. Diffusion latents go through {@link #unscaleLatents} first (or use {@link #decodeScaled}).
     */
    public NDArray decode(NDArray latents) {
        Shape s = latents.getShape();
        if (s.dimension() != 4 || s.get(1) != config.latentChannels()) {
            throw new IllegalArgumentException("latents must be [B, " + config.latentChannels() + ", h, w], got " + s);
        }
        NDArray z = postQuantConv == null ? latents : postQuantConv.forward(latents);
        return decoder.forward(z);
    }
}
