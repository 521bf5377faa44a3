package dev.steer.core.model;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The options of a diffusers {@code UNet2DConditionModel} that SD 1.x and SD 2.x checkpoints use,
 * read from {@code unet/config.json}. Options this library does not implement (SDXL's added
 * embeddings, class embeddings, other block types...) are refused by {@link #load} with a message
 * naming them.
 *
 * @param inChannels latent channels in
 * @param outChannels latent channels out
 * @param sampleSize default latent size (pixels / 8 for SD)
 * @param downBlockTypes {@code CrossAttnDownBlock2D} or {@code DownBlock2D} per level
 * @param upBlockTypes {@code CrossAttnUpBlock2D} or {@code UpBlock2D} per level
 * @param blockOutChannels channels per level
 * @param layersPerBlock resnets per down block (up blocks have one more)
 * @param transformerLayersPerBlock transformer blocks per attention, per level
 * @param attentionHeads heads per level (diffusers' legacy {@code attention_head_dim} is a head count)
 * @param crossAttentionDim width of the text encoder's hidden states
 * @param normGroups groups of every GroupNorm
 * @param normEps epsilon of resnet and output GroupNorms
 * @param useLinearProjection linear (SD 2.x) rather than 1x1 conv (SD 1.x) proj_in/proj_out
 * @param upcastAttention compute attention scores in float32 (SD 2.1)
 * @param flipSinToCos cos before sin in the timestep embedding
 * @param freqShift downscale_freq_shift of the timestep embedding
 * @param downsamplePadding padding of the downsampling convolutions
 */
public record UNetConfig(
        int inChannels,
        int outChannels,
        int sampleSize,
        List<String> downBlockTypes,
        List<String> upBlockTypes,
        int[] blockOutChannels,
        int layersPerBlock,
        int[] transformerLayersPerBlock,
        int[] attentionHeads,
        int crossAttentionDim,
        int normGroups,
        float normEps,
        boolean useLinearProjection,
        boolean upcastAttention,
        boolean flipSinToCos,
        int freqShift,
        int downsamplePadding) {

    /** The block type names this library implements. */
    public static final List<String> DOWN_TYPES = List.of("CrossAttnDownBlock2D", "DownBlock2D");
    /** The up block type names this library implements. */
    public static final List<String> UP_TYPES = List.of("CrossAttnUpBlock2D", "UpBlock2D");

    /** Reads {@code unet/config.json}. @throws ModelConfigException naming the file and the problem */
    public static UNetConfig load(Path configJson) {
        return from(ConfigJson.read(configJson));
    }

    /** Builds the config from parsed JSON, refusing unsupported options. */
    public static UNetConfig from(ConfigJson c) {
        c.refuseUnless("_class_name", "model class", "UNet2DConditionModel");
        c.refuseIfSet("addition_embed_type", "SDXL-style added text/time embeddings");
        c.refuseIfSet("class_embed_type", "class embeddings");
        c.refuseIfSet("num_class_embeds", "class embeddings");
        c.refuseIfSet("encoder_hid_dim", "encoder hidden state projection");
        c.refuseIfSet("time_cond_proj_dim", "timestep conditioning projection (LCM)");
        c.refuseIfSet("time_embedding_dim", "custom time embedding width");
        c.refuseIfSet("time_embedding_act_fn", "time embedding activation");
        c.refuseIfSet("timestep_post_act", "timestep post activation");
        c.refuseIfSet("cross_attention_norm", "cross-attention normalisation");
        c.refuseIfSet("reverse_transformer_layers_per_block", "asymmetric transformer depth");
        c.refuseIfSet("mid_block_only_cross_attention", "mid-block cross-attention only");
        c.refuseUnless("mid_block_type", "mid block", "UNetMidBlock2DCrossAttn");
        c.refuseUnless("act_fn", "activation", "silu");
        c.refuseUnless("time_embedding_type", "time embedding", "positional");
        c.refuseUnless("resnet_time_scale_shift", "resnet time conditioning", "default");
        c.refuseUnless("attention_type", "attention type", "default");
        c.refuseUnless("only_cross_attention", "cross-attention only transformer blocks", false);
        c.refuseUnless("dual_cross_attention", "dual cross-attention", false);
        c.refuseUnless("center_input_sample", "input centering", false);
        c.refuseUnless("class_embeddings_concat", "class embedding concat", false);
        c.refuseUnless("resnet_skip_time_act", "resnet skip time activation", false);
        c.refuseUnless("conv_in_kernel", "conv_in kernel", 3);
        c.refuseUnless("conv_out_kernel", "conv_out kernel", 3);
        c.refuseUnless("resnet_out_scale_factor", "resnet output scale", 1, 1.0);
        c.refuseUnless("mid_block_scale_factor", "mid block output scale", 1, 1.0);
        List<String> down = c.getStrings("down_block_types");
        List<String> up = c.getStrings("up_block_types");
        for (String t : down) {
            if (!DOWN_TYPES.contains(t)) {
                throw new ModelConfigException(c.file(), "unsupported down block type '" + t + "' (supported: " + DOWN_TYPES + ")");
            }
        }
        for (String t : up) {
            if (!UP_TYPES.contains(t)) {
                throw new ModelConfigException(c.file(), "unsupported up block type '" + t + "' (supported: " + UP_TYPES + ")");
            }
        }
        int[] channels = c.getInts("block_out_channels");
        int levels = channels.length;
        if (down.size() != levels || up.size() != levels) {
            throw new ModelConfigException(c.file(), "down_block_types, up_block_types and block_out_channels must have the same length");
        }
        if (c.has("layers_per_block") && isList(c, "layers_per_block")) {
            throw new ModelConfigException(c.file(), "unsupported option layers_per_block as a list; a single number is supported");
        }
        if (c.has("cross_attention_dim") && isList(c, "cross_attention_dim")) {
            throw new ModelConfigException(c.file(), "unsupported option cross_attention_dim as a list");
        }
        // diffusers: num_attention_heads = num_attention_heads or attention_head_dim (a legacy misnomer)
        String headsKey = c.has("num_attention_heads") ? "num_attention_heads" : "attention_head_dim";
        int[] heads = c.getIntPerBlock(headsKey, levels, 8);
        int groups = c.getInt("norm_num_groups", 32);
        for (int i = 0; i < levels; i++) {
            if (channels[i] % heads[i] != 0) {
                throw new ModelConfigException(c.file(), "block " + i + ": " + channels[i] + " channels do not split in " + heads[i] + " heads");
            }
            if (channels[i] % groups != 0) {
                throw new ModelConfigException(c.file(), "block " + i + ": " + channels[i] + " channels do not split in " + groups + " norm groups");
            }
        }
        return new UNetConfig(
                c.getInt("in_channels", 4),
                c.getInt("out_channels", 4),
                c.getInt("sample_size", 64),
                List.copyOf(down),
                List.copyOf(up),
                channels,
                c.getInt("layers_per_block", 2),
                c.getIntPerBlock("transformer_layers_per_block", levels, 1),
                heads,
                c.getInt("cross_attention_dim", 768),
                groups,
                c.getFloat("norm_eps", 1e-5f),
                c.getBool("use_linear_projection", false),
                c.getBool("upcast_attention", false),
                c.getBool("flip_sin_to_cos", true),
                c.getInt("freq_shift", 0),
                c.getInt("downsample_padding", 1));
    }

    private static boolean isList(ConfigJson c, String key) {
        try {
            c.getInts(key);
            return true;
        } catch (ModelConfigException e) {
            return false;
        }
    }

    /** Number of resolution levels. */
    public int levels() {
        return blockOutChannels.length;
    }

    /** Width of the timestep embedding (4 x the first level's channels). */
    public int timeEmbedDim() {
        return blockOutChannels[0] * 4;
    }

    /** Factor by which the UNet downsamples its input (latent sizes must be multiples of it for exact skips). */
    public int downsampleFactor() {
        return 1 << (levels() - 1);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UNetConfig u && toString().equals(u.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        return "UNetConfig[in=" + inChannels + ", out=" + outChannels + ", down=" + downBlockTypes + ", up=" + upBlockTypes
                + ", channels=" + Arrays.toString(blockOutChannels) + ", layers=" + layersPerBlock
                + ", transformerLayers=" + Arrays.toString(transformerLayersPerBlock)
                + ", heads=" + Arrays.toString(attentionHeads) + ", crossDim=" + crossAttentionDim + ", groups=" + normGroups
                + ", eps=" + normEps + ", linearProj=" + useLinearProjection + ", upcast=" + upcastAttention
                + ", flipSinToCos=" + flipSinToCos + ", freqShift=" + freqShift + ", downPad=" + downsamplePadding + "]";
    }
}
