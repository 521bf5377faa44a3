package dev.steer.core.model;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The options of a diffusers {@code FluxTransformer2DModel} (FLUX.1 [schnell] and [dev]), read from
 * {@code transformer/config.json}. Options this library does not implement are refused by
 * {@link #load} with a message naming them.
 *
 * @param inChannels features per packed latent token (16 latent channels x 2 x 2 = 64)
 * @param outChannels features per output token ({@code out_channels}, or {@code inChannels} when null)
 * @param numLayers double-stream blocks ({@code transformer_blocks}, 19 in FLUX.1)
 * @param numSingleLayers single-stream blocks ({@code single_transformer_blocks}, 38 in FLUX.1)
 * @param attentionHeadDim width of one head (128)
 * @param numAttentionHeads heads (24)
 * @param jointAttentionDim width of the T5 hidden states (4096)
 * @param pooledProjectionDim width of the pooled CLIP embedding (768)
 * @param guidanceEmbeds whether the model embeds a guidance value (FLUX.1 [dev]) or not ([schnell])
 * @param axesDimsRope rotary dimensions per position-id axis, summing to the head width ((16, 56, 56))
 */
public record FluxTransformerConfig(int inChannels, int outChannels, int numLayers, int numSingleLayers, int attentionHeadDim,
        int numAttentionHeads, int jointAttentionDim, int pooledProjectionDim, boolean guidanceEmbeds, int[] axesDimsRope) {

    /** The rotary embedding's base, fixed in diffusers' {@code FluxPosEmbed}. */
    public static final double ROPE_THETA = 10000.0;

    /** Validates the values. */
    public FluxTransformerConfig {
        axesDimsRope = axesDimsRope.clone();
        if (inChannels < 1 || outChannels < 1 || numLayers < 0 || numSingleLayers < 0 || numLayers + numSingleLayers < 1
                || attentionHeadDim < 2 || numAttentionHeads < 1 || jointAttentionDim < 1 || pooledProjectionDim < 1) {
            throw new IllegalArgumentException("FLUX transformer sizes must be positive (and at least one block)");
        }
        int sum = 0;
        for (int d : axesDimsRope) {
            if (d < 2 || d % 2 != 0) {
                throw new IllegalArgumentException("axes_dims_rope entries must be even and positive: " + Arrays.toString(axesDimsRope));
            }
            sum += d;
        }
        if (axesDimsRope.length != 3 || sum != attentionHeadDim) {
            throw new IllegalArgumentException("axes_dims_rope " + Arrays.toString(axesDimsRope) + " must be three axes summing to the head "
                    + "width " + attentionHeadDim);
        }
    }

    /** Reads {@code transformer/config.json}. @throws ModelConfigException naming the file and the problem */
    public static FluxTransformerConfig load(Path configJson) {
        return from(ConfigJson.read(configJson));
    }

    /** Builds the config from parsed JSON, refusing unsupported options. */
    public static FluxTransformerConfig from(ConfigJson c) {
        c.refuseUnless("_class_name", "model class", "FluxTransformer2DModel");
        c.refuseUnless("patch_size", "patch size (FLUX packs 2x2 latent patches outside the transformer)", 1);
        int in = c.getInt("in_channels", 64);
        int out = c.has("out_channels") ? c.getInt("out_channels") : in;
        try {
            return new FluxTransformerConfig(in, out, c.getInt("num_layers", 19), c.getInt("num_single_layers", 38),
                    c.getInt("attention_head_dim", 128), c.getInt("num_attention_heads", 24), c.getInt("joint_attention_dim", 4096),
                    c.getInt("pooled_projection_dim", 768), c.getBool("guidance_embeds", false),
                    c.has("axes_dims_rope") ? c.getInts("axes_dims_rope") : new int[] {16, 56, 56});
        } catch (IllegalArgumentException e) {
            throw new ModelConfigException(c.file(), e.getMessage());
        }
    }

    /** Width of the hidden states: heads x head width (3072). */
    public int innerDim() {
        return numAttentionHeads * attentionHeadDim;
    }

    /** Latent channels before 2x2 packing (16). */
    public int latentChannels() {
        return inChannels / 4;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FluxTransformerConfig f && inChannels == f.inChannels && outChannels == f.outChannels && numLayers == f.numLayers
                && numSingleLayers == f.numSingleLayers && attentionHeadDim == f.attentionHeadDim
                && numAttentionHeads == f.numAttentionHeads && jointAttentionDim == f.jointAttentionDim
                && pooledProjectionDim == f.pooledProjectionDim && guidanceEmbeds == f.guidanceEmbeds
                && Arrays.equals(axesDimsRope, f.axesDimsRope);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(axesDimsRope) * 31 + java.util.Objects.hash(inChannels, outChannels, numLayers, numSingleLayers,
                attentionHeadDim, numAttentionHeads, jointAttentionDim, pooledProjectionDim, guidanceEmbeds);
    }

    @Override
    public String toString() {
        return "FluxTransformerConfig[" + numLayers + " double + " + numSingleLayers + " single blocks, " + numAttentionHeads + "x"
                + attentionHeadDim + " heads, text " + jointAttentionDim + ", pooled " + pooledProjectionDim + ", guidance "
                + guidanceEmbeds + ", rope " + Arrays.toString(axesDimsRope) + "]";
    }
}
