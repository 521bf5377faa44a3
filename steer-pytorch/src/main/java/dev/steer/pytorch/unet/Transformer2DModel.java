package dev.steer.pytorch.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.pytorch.internal.nn.Attention;
import dev.steer.pytorch.internal.nn.Conv2d;
import dev.steer.pytorch.internal.nn.GroupNorm;
import dev.steer.pytorch.internal.nn.LayerNorm;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;
import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' {@code Transformer2DModel} for continuous inputs: GroupNorm, proj_in (1x1 conv for SD
 * 1.x, linear for SD 2.x), {@code transformer_blocks}, proj_out, residual.
 */
final class Transformer2DModel extends Module {
    private final GroupNorm norm;
    private final Module projIn;
    private final Module projOut;
    private final List<BasicTransformerBlock> blocks = new ArrayList<>();
    private final boolean linearProjection;

    Transformer2DModel(int channels, int heads, int layers, int contextDim, int groups, boolean linearProjection,
            String namePrefix, int downscale, List<CrossAttentionLayer> registry) {
        int headDim = channels / heads;
        int inner = heads * headDim;
        this.linearProjection = linearProjection;
        norm = child("norm", new GroupNorm(groups, channels, 1e-6f));
        projIn = child("proj_in", linearProjection ? new Linear(channels, inner, true) : new Conv2d(channels, inner, 1, 1, 0));
        for (int i = 0; i < layers; i++) {
            String name = namePrefix + ".transformer_blocks." + i + ".attn2";
            CrossAttentionLayer layer = new CrossAttentionLayer(registry.size(), name, heads, downscale);
            registry.add(layer);
            blocks.add(child("transformer_blocks." + i, new BasicTransformerBlock(inner, contextDim, heads, headDim, layer)));
        }
        projOut = child("proj_out", linearProjection ? new Linear(inner, channels, true) : new Conv2d(inner, channels, 1, 1, 0));
    }

    NDArray forward(NDArray x, NDArray context, CrossAttentionHook hook) {
        Shape s = x.getShape();
        long b = s.get(0);
        long h = s.get(2);
        long w = s.get(3);
        NDArray hs = norm.forward(x);
        long inner;
        if (linearProjection) {
            hs = hs.transpose(0, 2, 3, 1).reshape(b, h * w, s.get(1));
            hs = ((Linear) projIn).forward(hs);
            inner = hs.getShape().get(2);
        } else {
            hs = ((Conv2d) projIn).forward(hs);
            inner = hs.getShape().get(1);
            hs = hs.transpose(0, 2, 3, 1).reshape(b, h * w, inner);
        }
        for (BasicTransformerBlock block : blocks) {
            hs = block.forward(hs, context, (int) h, (int) w, hook);
        }
        if (linearProjection) {
            hs = ((Linear) projOut).forward(hs);
            hs = hs.reshape(b, h, w, s.get(1)).transpose(0, 3, 1, 2);
        } else {
            hs = hs.reshape(b, h, w, inner).transpose(0, 3, 1, 2);
            hs = ((Conv2d) projOut).forward(hs);
        }
        return hs.add(x);
    }

    /** diffusers' {@code BasicTransformerBlock}: self-attention, cross-attention, GEGLU feed-forward, pre-norm. */
    static final class BasicTransformerBlock extends Module {
        private final LayerNorm norm1;
        private final Attention attn1;
        private final LayerNorm norm2;
        private final Attention attn2;
        private final LayerNorm norm3;
        private final Linear ffIn;
        private final Linear ffOut;
        private final CrossAttentionLayer layer;

        BasicTransformerBlock(int dim, int contextDim, int heads, int headDim, CrossAttentionLayer layer) {
            this.layer = layer;
            norm1 = child("norm1", new LayerNorm(dim, 1e-5f));
            attn1 = child("attn1", new Attention(dim, dim, heads, headDim));
            norm2 = child("norm2", new LayerNorm(dim, 1e-5f));
            attn2 = child("attn2", new Attention(dim, contextDim, heads, headDim));
            norm3 = child("norm3", new LayerNorm(dim, 1e-5f));
            int ffInner = dim * 4;
            ffIn = child("ff.net.0.proj", new Linear(dim, ffInner * 2L, true));
            ffOut = child("ff.net.2", new Linear(ffInner, dim, true));
        }

        NDArray forward(NDArray x, NDArray context, int h, int w, CrossAttentionHook hook) {
            NDArray hs = attn1.forward(norm1.forward(x), null, null).add(x);
            hs = attn2.forward(norm2.forward(hs), context,
                    hook == null ? null : probs -> hook.onCrossAttention(layer, h, w, probs)).add(hs);
            NDArray proj = ffIn.forward(norm3.forward(hs));
            ai.djl.ndarray.NDList parts = proj.split(2, proj.getShape().dimension() - 1);
            NDArray geglu = parts.get(0).mul(ai.djl.nn.Activation.gelu(parts.get(1)));
            return ffOut.forward(geglu).add(hs);
        }
    }
}
