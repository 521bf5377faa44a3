package dev.steer.pytorch.unet;

import ai.djl.ndarray.NDArray;
import dev.steer.pytorch.internal.nn.Activations;
import dev.steer.pytorch.internal.nn.Conv2d;
import dev.steer.pytorch.internal.nn.GroupNorm;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;

/**
 * diffusers' {@code ResnetBlock2D}: two GroupNorm-SiLU-conv stages, the timestep embedding added
 * in between, a 1x1 shortcut when the channel count changes. Also used by the VAE (no time
 * embedding there).
 */
public final class ResnetBlock2D extends Module {
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final Linear timeEmbProj;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d shortcut;

    /**
     * @param tembChannels width of the timestep embedding, or 0 for none (VAE)
     */
    public ResnetBlock2D(int in, int out, int tembChannels, int groups, float eps) {
        norm1 = child("norm1", new GroupNorm(groups, in, eps));
        conv1 = child("conv1", new Conv2d(in, out, 3, 1, 1));
        timeEmbProj = tembChannels > 0 ? child("time_emb_proj", new Linear(tembChannels, out, true)) : null;
        norm2 = child("norm2", new GroupNorm(groups, out, eps));
        conv2 = child("conv2", new Conv2d(out, out, 3, 1, 1));
        shortcut = in != out ? child("conv_shortcut", new Conv2d(in, out, 1, 1, 0)) : null;
    }

    /** Applies the block; {@code temb} [B, tembChannels] may be null when built without one. */
    public NDArray forward(NDArray x, NDArray temb) {
        NDArray h = conv1.forward(Activations.SILU.apply(norm1.forward(x)));
        if (timeEmbProj != null) {
            NDArray t = timeEmbProj.forward(Activations.SILU.apply(temb));
            h = h.add(t.expandDims(2).expandDims(3));
        }
        h = conv2.forward(Activations.SILU.apply(norm2.forward(h)));
        NDArray residual = shortcut == null ? x : shortcut.forward(x);
        return residual.add(h);
    }
}
