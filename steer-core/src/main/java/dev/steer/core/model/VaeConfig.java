package dev.steer.core.model;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The options of a diffusers {@code AutoencoderKL} (the VAE of SD 1.x, SD 2.x and FLUX.1), read from
 * {@code vae/config.json}. Other block types, activations or per-channel latent statistics
 * ({@code latents_mean}/{@code latents_std}) are refused by {@link #load} with a message naming the option.
 *
 * <p>The diffusion model works on scaled latents: {@code z = (mean - shiftFactor) * scalingFactor}
 * ({@link #scaleLatents}), and decoding takes {@code z / scalingFactor + shiftFactor}
 * ({@link #unscaleLatents}). SD VAEs have no shift (0); FLUX.1's has {@code shift_factor} 0.1159 and
 * {@code scaling_factor} 0.3611.
 *
 * @param inChannels image channels into the encoder
 * @param outChannels image channels out of the decoder
 * @param blockOutChannels channels per level (the decoder runs them in reverse)
 * @param layersPerBlock resnets per encoder block (decoder blocks have one more)
 * @param latentChannels channels of the latent
 * @param normGroups groups of every GroupNorm
 * @param scalingFactor factor that maps latents to unit variance: the diffusion model works on
 *     {@code (mean - shiftFactor) * scalingFactor}, and decoding takes {@code latents / scalingFactor + shiftFactor}
 * @param shiftFactor {@code shift_factor}: the latent offset subtracted before scaling (0 when absent or null,
 *     as in SD VAEs; 0.1159 for FLUX.1)
 * @param useQuantConv whether the 1x1 {@code quant_conv} follows the encoder
 * @param usePostQuantConv whether the 1x1 {@code post_quant_conv} precedes the decoder
 * @param midBlockAddAttention whether the mid blocks hold a self-attention
 * @param sampleSize default image size
 */
public record VaeConfig(
        int inChannels,
        int outChannels,
        int[] blockOutChannels,
        int layersPerBlock,
        int latentChannels,
        int normGroups,
        float scalingFactor,
        float shiftFactor,
        boolean useQuantConv,
        boolean usePostQuantConv,
        boolean midBlockAddAttention,
        int sampleSize) {

    /** The encoder block type this library implements. */
    public static final List<String> DOWN_TYPES = List.of("DownEncoderBlock2D");
    /** The decoder block type this library implements. */
    public static final List<String> UP_TYPES = List.of("UpDecoderBlock2D");
    /** diffusers' default scaling factor (SD 1.x and 2.x). */
    public static final float DEFAULT_SCALING_FACTOR = 0.18215f;

    /** Reads {@code vae/config.json}. @throws ModelConfigException naming the file and the problem */
    public static VaeConfig load(Path configJson) {
        return from(ConfigJson.read(configJson));
    }

    /** Builds the config from parsed JSON, refusing unsupported options. */
    public static VaeConfig from(ConfigJson c) {
        c.refuseUnless("_class_name", "model class", "AutoencoderKL");
        c.refuseUnless("act_fn", "activation", "silu");
        c.refuseIfSet("latents_mean", "per-channel latent statistics");
        c.refuseIfSet("latents_std", "per-channel latent statistics");
        c.refuseUnless("norm_type", "normalisation", "group");
        c.refuseUnless("double_z", "encoder output of mean and log-variance", true);
        List<String> down = c.getStrings("down_block_types");
        List<String> up = c.getStrings("up_block_types");
        for (String t : down) {
            if (!DOWN_TYPES.contains(t)) {
                throw new ModelConfigException(c.file(), "unsupported down block type '" + t + "' in down_block_types (supported: "
                        + DOWN_TYPES + ")");
            }
        }
        for (String t : up) {
            if (!UP_TYPES.contains(t)) {
                throw new ModelConfigException(c.file(), "unsupported up block type '" + t + "' in up_block_types (supported: "
                        + UP_TYPES + ")");
            }
        }
        int[] channels = c.getInts("block_out_channels");
        int levels = channels.length;
        if (levels == 0 || down.size() != levels || up.size() != levels) {
            throw new ModelConfigException(c.file(), "down_block_types, up_block_types and block_out_channels must have the same, "
                    + "non-zero length");
        }
        int groups = c.getInt("norm_num_groups", 32);
        for (int i = 0; i < levels; i++) {
            if (channels[i] <= 0 || channels[i] % groups != 0) {
                throw new ModelConfigException(c.file(), "block " + i + ": " + channels[i] + " channels do not split in " + groups
                        + " norm groups");
            }
        }
        float scaling = c.getFloat("scaling_factor", DEFAULT_SCALING_FACTOR);
        if (!Float.isFinite(scaling) || scaling == 0f) {
            throw new ModelConfigException(c.file(), "scaling_factor must be a finite, non-zero number, found " + scaling);
        }
        float shift = c.getFloat("shift_factor", 0f);
        if (!Float.isFinite(shift)) {
            throw new ModelConfigException(c.file(), "shift_factor must be a finite number, found " + shift);
        }
        int layers = c.getInt("layers_per_block", 1);
        if (layers <= 0) {
            throw new ModelConfigException(c.file(), "layers_per_block must be positive, found " + layers);
        }
        return new VaeConfig(
                c.getInt("in_channels", 3),
                c.getInt("out_channels", 3),
                channels,
                layers,
                c.getInt("latent_channels", 4),
                groups,
                scaling,
                shift,
                c.getBool("use_quant_conv", true),
                c.getBool("use_post_quant_conv", true),
                c.getBool("mid_block_add_attention", true),
                c.getInt("sample_size", 32));
    }

    /**
     * Diffusion latents to the decoder's input, as diffusers' pipelines compute it in float32:
     * {@code latents / scalingFactor + shiftFactor} (the shift only when non-zero). A new array.
     */
    public float[] unscaleLatents(float[] latents) {
        float[] out = new float[latents.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = shiftFactor == 0f ? latents[i] / scalingFactor : latents[i] / scalingFactor + shiftFactor;
        }
        return out;
    }

    /**
     * Encoder latents (the posterior's mean or a sample) to diffusion latents, in float32:
     * {@code (latents - shiftFactor) * scalingFactor}. A new array.
     */
    public float[] scaleLatents(float[] latents) {
        float[] out = new float[latents.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (latents[i] - shiftFactor) * scalingFactor;
        }
        return out;
    }

    /** Number of resolution levels. */
    public int levels() {
        return blockOutChannels.length;
    }

    /** Factor between image and latent sizes (8 for SD). */
    public int downsampleFactor() {
        return 1 << (levels() - 1);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VaeConfig v && toString().equals(v.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        return "VaeConfig[in=" + inChannels + ", out=" + outChannels + ", channels=" + Arrays.toString(blockOutChannels)
                + ", layers=" + layersPerBlock + ", latent=" + latentChannels + ", groups=" + normGroups
                + ", scaling=" + scalingFactor + ", shift=" + shiftFactor + ", quantConv=" + useQuantConv + ", postQuantConv=" + usePostQuantConv
                + ", midAttention=" + midBlockAddAttention + ", sampleSize=" + sampleSize + "]";
    }
}
