package dev.steer.pytorch.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.model.UNetConfig;
import dev.steer.pytorch.internal.nn.Activations;
import dev.steer.pytorch.internal.nn.TimestepFeatures;
import dev.steer.pytorch.internal.nn.Conv2d;
import dev.steer.pytorch.internal.nn.GroupNorm;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * diffusers' {@code UNet2DConditionModel} for SD 1.x and SD 2.x, built from its {@link UNetConfig}
 * with parameters named as in {@code diffusion_pytorch_model.safetensors}. Predicts noise (or v)
 * from a noisy latent, a timestep and the text encoder's hidden states; every cross-attention
 * layer can be observed through a {@link CrossAttentionHook}.
 */
public final class UNet2DConditionModel extends Module {
    private final UNetConfig config;
    private final Conv2d convIn;
    private final Linear timeLinear1;
    private final Linear timeLinear2;
    private final List<DownBlock> downBlocks = new ArrayList<>();
    private final MidBlock midBlock;
    private final List<UpBlock> upBlocks = new ArrayList<>();
    private final GroupNorm convNormOut;
    private final Conv2d convOut;
    private final List<CrossAttentionLayer> crossAttentionLayers;

    /** Builds the module tree (without weights) for a config. */
    public UNet2DConditionModel(UNetConfig config) {
        this.config = config;
        int[] ch = config.blockOutChannels();
        int levels = ch.length;
        int temb = config.timeEmbedDim();
        int groups = config.normGroups();
        float eps = config.normEps();
        List<CrossAttentionLayer> registry = new ArrayList<>();
        convIn = child("conv_in", new Conv2d(config.inChannels(), ch[0], 3, 1, 1));
        timeLinear1 = child("time_embedding.linear_1", new Linear(ch[0], temb, true));
        timeLinear2 = child("time_embedding.linear_2", new Linear(temb, temb, true));
        int out = ch[0];
        for (int i = 0; i < levels; i++) {
            int in = out;
            out = ch[i];
            boolean last = i == levels - 1;
            downBlocks.add(child("down_blocks." + i, new DownBlock(i, in, out, temb, config.layersPerBlock(),
                    config.downBlockTypes().get(i).startsWith("CrossAttn"), !last, config.attentionHeads()[i],
                    config.transformerLayersPerBlock()[i], config.crossAttentionDim(), groups, eps,
                    config.useLinearProjection(), 1 << i, config.downsamplePadding(), registry)));
        }
        midBlock = child("mid_block", new MidBlock(ch[levels - 1], temb, config.attentionHeads()[levels - 1],
                config.transformerLayersPerBlock()[levels - 1], config.crossAttentionDim(), groups, eps,
                config.useLinearProjection(), 1 << (levels - 1), registry));
        int prevOut = ch[levels - 1];
        for (int i = 0; i < levels; i++) {
            int r = levels - 1 - i;
            int upOut = ch[r];
            int upIn = ch[Math.max(r - 1, 0)];
            boolean last = i == levels - 1;
            upBlocks.add(child("up_blocks." + i, new UpBlock(i, upIn, upOut, prevOut, temb, config.layersPerBlock() + 1,
                    config.upBlockTypes().get(i).startsWith("CrossAttn"), !last, config.attentionHeads()[r],
                    config.transformerLayersPerBlock()[r], config.crossAttentionDim(), groups, eps,
                    config.useLinearProjection(), 1 << r, registry)));
            prevOut = upOut;
        }
        convNormOut = child("conv_norm_out", new GroupNorm(groups, ch[0], eps));
        convOut = child("conv_out", new Conv2d(ch[0], config.outChannels(), 3, 1, 1));
        this.crossAttentionLayers = Collections.unmodifiableList(registry);
    }

    /** The config this model was built from. */
    public UNetConfig config() {
        return config;
    }

    /** Every cross-attention layer in execution order. */
    public List<CrossAttentionLayer> crossAttentionLayers() {
        return crossAttentionLayers;
    }

    /**
     * One denoiser call.
     *
     * @param sample noisy latents [B, C, H, W]
     * @param timesteps one timestep per batch row [B] (any numeric type), or a single one [1] / scalar
     * @param context text encoder hidden states [B, T, crossAttentionDim]
     * @param hook receives every cross-attention probability tensor; null for none (nothing is kept)
     * @return the prediction [B, outChannels, H, W], in {@code sample}'s manager
     */
    public NDArray forward(NDArray sample, NDArray timesteps, NDArray context, CrossAttentionHook hook) {
        Shape s = sample.getShape();
        if (s.dimension() != 4 || s.get(1) != config.inChannels()) {
            throw new IllegalArgumentException("sample must be [B, " + config.inChannels() + ", H, W], got " + s);
        }
        if (context.getShape().dimension() != 3 || context.getShape().get(2) != config.crossAttentionDim()) {
            throw new IllegalArgumentException("encoder hidden states must be [B, T, " + config.crossAttentionDim() + "], got "
                    + context.getShape());
        }
        long batch = s.get(0);
        // Projections of the context attach to the context's manager: give this call a view of it in
        // the sample's scope so that they are freed with the call, not with the caller's scope.
        if (context.getManager() != sample.getManager()) {
            context = inScopeOf(sample, context.reshape(context.getShape()));
        }
        NDArray temb = timestepEmbedding(sample.getManager(), timesteps, batch);
        temb = timeLinear2.forward(Activations.SILU.apply(timeLinear1.forward(temb)));

        NDArray h = convIn.forward(sample);
        List<NDArray> skips = new ArrayList<>();
        skips.add(h);
        for (DownBlock block : downBlocks) {
            h = block.forward(h, temb, context, hook, skips);
        }
        h = midBlock.forward(h, temb, context, hook);
        for (UpBlock block : upBlocks) {
            int consumed = config.layersPerBlock() + 1;
            long[] upsampleTo = null;
            if (skips.size() > consumed) {
                Shape next = skips.get(skips.size() - consumed - 1).getShape();
                upsampleTo = new long[] {next.get(2), next.get(3)};
            }
            h = block.forward(h, temb, context, hook, skips, upsampleTo);
        }
        h = convOut.forward(Activations.SILU.apply(convNormOut.forward(h)));
        return h;
    }

    /** Sinusoidal timestep features as diffusers' {@code get_timestep_embedding}, computed in float32. */
    private NDArray timestepEmbedding(NDManager manager, NDArray timesteps, long batch) {
        NDArray asFloat = timesteps.toType(DataType.FLOAT32, false);
        float[] t = asFloat.toFloatArray();
        if (asFloat != timesteps) {
            asFloat.close();
        }
        return TimestepFeatures.of(manager, t, batch, config.blockOutChannels()[0], config.flipSinToCos(), config.freqShift());
    }
}
