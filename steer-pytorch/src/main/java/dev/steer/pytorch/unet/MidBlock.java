package dev.steer.pytorch.unet;

import ai.djl.ndarray.NDArray;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.pytorch.nn.Module;
import java.util.List;

/** diffusers' {@code UNetMidBlock2DCrossAttn}: resnet, transformer, resnet. */
final class MidBlock extends Module {
    private final ResnetBlock2D resnet0;
    private final Transformer2DModel attention;
    private final ResnetBlock2D resnet1;

    MidBlock(int channels, int temb, int heads, int transformerLayers, int contextDim, int groups, float eps,
            boolean linearProjection, int downscale, List<CrossAttentionLayer> registry) {
        resnet0 = child("resnets.0", new ResnetBlock2D(channels, channels, temb, groups, eps));
        attention = child("attentions.0", new Transformer2DModel(channels, heads, transformerLayers, contextDim, groups,
                linearProjection, "mid_block.attentions.0", downscale, registry));
        resnet1 = child("resnets.1", new ResnetBlock2D(channels, channels, temb, groups, eps));
    }

    NDArray forward(NDArray x, NDArray temb, NDArray context, CrossAttentionHook hook) {
        NDArray h = resnet0.forward(x, temb);
        h = attention.forward(h, context, hook);
        return resnet1.forward(h, temb);
    }
}
