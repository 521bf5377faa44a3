package dev.steer.pytorch.unet;

import ai.djl.ndarray.NDArray;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.pytorch.internal.nn.Conv2d;
import dev.steer.pytorch.nn.Module;
import java.util.ArrayList;
import java.util.List;

/** diffusers' {@code CrossAttnDownBlock2D} (with attentions) or {@code DownBlock2D} (without). */
final class DownBlock extends Module {
    private final List<ResnetBlock2D> resnets = new ArrayList<>();
    private final List<Transformer2DModel> attentions = new ArrayList<>();
    private final Conv2d downsampler;

    DownBlock(int index, int in, int out, int temb, int layers, boolean crossAttention, boolean downsample,
            int heads, int transformerLayers, int contextDim, int groups, float eps, boolean linearProjection,
            int downscale, int padding, List<CrossAttentionLayer> registry) {
        for (int i = 0; i < layers; i++) {
            resnets.add(child("resnets." + i, new ResnetBlock2D(i == 0 ? in : out, out, temb, groups, eps)));
            if (crossAttention) {
                attentions.add(child("attentions." + i, new Transformer2DModel(out, heads, transformerLayers, contextDim,
                        groups, linearProjection, "down_blocks." + index + ".attentions." + i, downscale, registry)));
            }
        }
        downsampler = downsample ? child("downsamplers.0.conv", new Conv2d(out, out, 3, 2, padding)) : null;
    }

    /** Runs the block, appending every output that the up path will consume to {@code skips}. */
    NDArray forward(NDArray x, NDArray temb, NDArray context, CrossAttentionHook hook, List<NDArray> skips) {
        NDArray h = x;
        for (int i = 0; i < resnets.size(); i++) {
            h = resnets.get(i).forward(h, temb);
            if (!attentions.isEmpty()) {
                h = attentions.get(i).forward(h, context, hook);
            }
            skips.add(h);
        }
        if (downsampler != null) {
            h = downsampler.forward(h);
            skips.add(h);
        }
        return h;
    }
}
