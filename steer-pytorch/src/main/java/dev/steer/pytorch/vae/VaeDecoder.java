package dev.steer.pytorch.vae;

import ai.djl.ndarray.NDArray;
import dev.steer.core.model.VaeConfig;
import dev.steer.pytorch.internal.nn.Activations;
import dev.steer.pytorch.internal.nn.Conv2d;
import dev.steer.pytorch.internal.nn.GroupNorm;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.unet.ResnetBlock2D;
import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' VAE {@code Decoder}: conv_in, mid block, {@code UpDecoderBlock2D}s over the reversed
 * channels (layers_per_block + 1 resnets, then nearest 2x upsampling and a conv), GroupNorm, SiLU,
 * conv_out.
 */
final class VaeDecoder extends Module {
    private final Conv2d convIn;
    private final VaeMidBlock midBlock;
    private final List<List<ResnetBlock2D>> resnets = new ArrayList<>();
    private final List<Conv2d> upsamplers = new ArrayList<>();
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    VaeDecoder(VaeConfig config, float eps) {
        int[] ch = config.blockOutChannels();
        int levels = ch.length;
        int groups = config.normGroups();
        int top = ch[levels - 1];
        convIn = child("conv_in", new Conv2d(config.latentChannels(), top, 3, 1, 1));
        midBlock = child("mid_block", new VaeMidBlock(top, groups, eps, config.midBlockAddAttention()));
        int out = top;
        for (int i = 0; i < levels; i++) {
            int prev = out;
            out = ch[levels - 1 - i];
            List<ResnetBlock2D> block = new ArrayList<>();
            for (int j = 0; j < config.layersPerBlock() + 1; j++) {
                block.add(child("up_blocks." + i + ".resnets." + j,
                        new ResnetBlock2D(j == 0 ? prev : out, out, 0, groups, eps)));
            }
            resnets.add(block);
            boolean last = i == levels - 1;
            upsamplers.add(last ? null : child("up_blocks." + i + ".upsamplers.0.conv", new Conv2d(out, out, 3, 1, 1)));
        }
        convNormOut = child("conv_norm_out", new GroupNorm(groups, ch[0], eps));
        convOut = child("conv_out", new Conv2d(ch[0], config.outChannels(), 3, 1, 1));
    }

    NDArray forward(NDArray latents) {
        NDArray h = midBlock.forward(convIn.forward(latents));
        for (int i = 0; i < resnets.size(); i++) {
            for (ResnetBlock2D r : resnets.get(i)) {
                h = r.forward(h, null);
            }
            Conv2d up = upsamplers.get(i);
            if (up != null) {
                // nearest-neighbour 2x (DJL's repeat(axis, n) is repeat_interleave), then the conv
                h = up.forward(h.repeat(2, 2).repeat(3, 2));
            }
        }
        return convOut.forward(Activations.SILU.apply(convNormOut.forward(h)));
    }
}
