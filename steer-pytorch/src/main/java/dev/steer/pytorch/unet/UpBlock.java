package dev.steer.pytorch.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.pytorch.internal.nn.Conv2d;
import dev.steer.pytorch.nn.Module;
import java.util.ArrayList;
import java.util.List;

/** diffusers' {@code CrossAttnUpBlock2D} (with attentions) or {@code UpBlock2D} (without). */
final class UpBlock extends Module {
    private final List<ResnetBlock2D> resnets = new ArrayList<>();
    private final List<Transformer2DModel> attentions = new ArrayList<>();
    private final Conv2d upsampler;

    UpBlock(int index, int in, int out, int prevOut, int temb, int layers, boolean crossAttention, boolean upsample,
            int heads, int transformerLayers, int contextDim, int groups, float eps, boolean linearProjection,
            int downscale, List<CrossAttentionLayer> registry) {
        for (int i = 0; i < layers; i++) {
            int skipChannels = i == layers - 1 ? in : out;
            int resnetIn = i == 0 ? prevOut : out;
            resnets.add(child("resnets." + i, new ResnetBlock2D(resnetIn + skipChannels, out, temb, groups, eps)));
            if (crossAttention) {
                attentions.add(child("attentions." + i, new Transformer2DModel(out, heads, transformerLayers, contextDim,
                        groups, linearProjection, "up_blocks." + index + ".attentions." + i, downscale, registry)));
            }
        }
        upsampler = upsample ? child("upsamplers.0.conv", new Conv2d(out, out, 3, 1, 1)) : null;
    }

    /**
     * Runs the block, consuming skip connections from the end of {@code skips}.
     *
     * @param upsampleTo spatial size after upsampling (the next skip's), or null for exactly 2x
     */
    NDArray forward(NDArray x, NDArray temb, NDArray context, CrossAttentionHook hook, List<NDArray> skips, long[] upsampleTo) {
        NDArray h = x;
        for (int i = 0; i < resnets.size(); i++) {
            NDArray skip = skips.remove(skips.size() - 1);
            h = NDArrays.concat(new ai.djl.ndarray.NDList(h, skip), 1);
            h = resnets.get(i).forward(h, temb);
            if (!attentions.isEmpty()) {
                h = attentions.get(i).forward(h, context, hook);
            }
        }
        if (upsampler != null) {
            Shape s = h.getShape();
            if (upsampleTo == null || (upsampleTo[0] == s.get(2) * 2 && upsampleTo[1] == s.get(3) * 2)) {
                h = h.repeat(2, 2).repeat(3, 2);
            } else {
                h = h.getNDArrayInternal().interpolation(upsampleTo, 0, false);
            }
            h = upsampler.forward(h);
        }
        return h;
    }
}
