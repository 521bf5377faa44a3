package dev.steer.pytorch.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.model.VaeConfig;
import dev.steer.pytorch.internal.nn.Activations;
import dev.steer.pytorch.internal.nn.Conv2d;
import dev.steer.pytorch.internal.nn.GroupNorm;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.unet.ResnetBlock2D;
import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' VAE {@code Encoder}: conv_in, {@code DownEncoderBlock2D}s (resnets, then a stride-2
 * conv after padding one zero row and column on the bottom and right), mid block, GroupNorm, SiLU,
 * conv_out to 2 x latent channels (mean and log-variance).
 */
final class VaeEncoder extends Module {
    private final Conv2d convIn;
    private final List<List<ResnetBlock2D>> resnets = new ArrayList<>();
    private final List<Conv2d> downsamplers = new ArrayList<>();
    private final VaeMidBlock midBlock;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    VaeEncoder(VaeConfig config, float eps) {
        int[] ch = config.blockOutChannels();
        int groups = config.normGroups();
        convIn = child("conv_in", new Conv2d(config.inChannels(), ch[0], 3, 1, 1));
        int out = ch[0];
        for (int i = 0; i < ch.length; i++) {
            int in = out;
            out = ch[i];
            List<ResnetBlock2D> block = new ArrayList<>();
            for (int j = 0; j < config.layersPerBlock(); j++) {
                block.add(child("down_blocks." + i + ".resnets." + j,
                        new ResnetBlock2D(j == 0 ? in : out, out, 0, groups, eps)));
            }
            resnets.add(block);
            boolean last = i == ch.length - 1;
            downsamplers.add(last ? null : child("down_blocks." + i + ".downsamplers.0.conv", new Conv2d(out, out, 3, 2, 0)));
        }
        int top = ch[ch.length - 1];
        midBlock = child("mid_block", new VaeMidBlock(top, groups, eps, config.midBlockAddAttention()));
        convNormOut = child("conv_norm_out", new GroupNorm(groups, top, eps));
        convOut = child("conv_out", new Conv2d(top, 2L * config.latentChannels(), 3, 1, 1));
    }

    NDArray forward(NDArray image) {
        NDArray h = convIn.forward(image);
        for (int i = 0; i < resnets.size(); i++) {
            for (ResnetBlock2D r : resnets.get(i)) {
                h = r.forward(h, null);
            }
            Conv2d down = downsamplers.get(i);
            if (down != null) {
                // diffusers' Downsample2D with padding=0: F.pad(x, (0, 1, 0, 1)) then the stride-2 conv
                h = down.forward(h.pad(new Shape(0, 1, 0, 1), 0));
            }
        }
        h = midBlock.forward(h);
        return convOut.forward(Activations.SILU.apply(convNormOut.forward(h)));
    }
}
