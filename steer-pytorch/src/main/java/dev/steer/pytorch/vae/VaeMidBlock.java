package dev.steer.pytorch.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.steer.pytorch.internal.nn.Attention;
import dev.steer.pytorch.internal.nn.GroupNorm;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.unet.ResnetBlock2D;

/**
 * diffusers' {@code UNetMidBlock2D} as the VAE uses it: resnet, single-head self-attention over the
 * pixels (GroupNorm first, residual added), resnet; no time embedding.
 */
final class VaeMidBlock extends Module {
    private final ResnetBlock2D resnet0;
    private final GroupNorm attnNorm;
    private final Attention attention;
    private final ResnetBlock2D resnet1;

    VaeMidBlock(int channels, int groups, float eps, boolean addAttention) {
        resnet0 = child("resnets.0", new ResnetBlock2D(channels, channels, 0, groups, eps));
        if (addAttention) {
            // diffusers passes attention_head_dim = channels: one head as wide as the block
            attnNorm = child("attentions.0.group_norm", new GroupNorm(groups, channels, eps));
            attention = child("attentions.0", new Attention(channels, channels, 1, channels, true));
        } else {
            attnNorm = null;
            attention = null;
        }
        resnet1 = child("resnets.1", new ResnetBlock2D(channels, channels, 0, groups, eps));
    }

    NDArray forward(NDArray x) {
        NDArray h = resnet0.forward(x, null);
        if (attention != null) {
            Shape s = h.getShape();
            long b = s.get(0);
            long c = s.get(1);
            NDArray tokens = attnNorm.forward(h).reshape(b, c, -1).transpose(0, 2, 1);
            NDArray attended = attention.forward(tokens, null, null).transpose(0, 2, 1).reshape(s);
            h = attended.add(h);
        }
        return resnet1.forward(h, null);
    }
}
