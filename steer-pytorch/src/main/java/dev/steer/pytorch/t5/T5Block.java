package dev.steer.pytorch.t5;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import dev.steer.core.model.T5Config;
import dev.steer.pytorch.internal.nn.Activations;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.internal.nn.RmsNorm;

/**
 * transformers' {@code T5Block} of the encoder: {@code layer.0} (pre-norm self-attention with a
 * residual) then {@code layer.1} (pre-norm feed-forward with a residual). The feed-forward is
 * {@code DenseReluDense}: gated ({@code wo(gelu_new(wi_0 x) * wi_1 x)}, T5 v1.1 and FLUX) or plain
 * ({@code wo(relu(wi x))}, the original T5), as the config's {@code feed_forward_proj} says.
 */
final class T5Block extends Module {
    private final T5Attention selfAttention;
    private final RmsNorm attentionNorm;
    private final Linear wi0;
    private final Linear wi1;
    private final Linear wi;
    private final Linear wo;
    private final RmsNorm feedForwardNorm;

    T5Block(T5Config c, boolean hasRelativeAttentionBias) {
        selfAttention = child("layer.0.SelfAttention", new T5Attention(c, hasRelativeAttentionBias));
        attentionNorm = child("layer.0.layer_norm", new RmsNorm(c.dModel(), c.layerNormEpsilon()));
        if (c.isGated()) {
            wi0 = child("layer.1.DenseReluDense.wi_0", new Linear(c.dModel(), c.dFf(), false));
            wi1 = child("layer.1.DenseReluDense.wi_1", new Linear(c.dModel(), c.dFf(), false));
            wi = null;
        } else {
            wi0 = null;
            wi1 = null;
            wi = child("layer.1.DenseReluDense.wi", new Linear(c.dModel(), c.dFf(), false));
        }
        wo = child("layer.1.DenseReluDense.wo", new Linear(c.dFf(), c.dModel(), false));
        feedForwardNorm = child("layer.1.layer_norm", new RmsNorm(c.dModel(), c.layerNormEpsilon()));
    }

    T5Attention selfAttention() {
        return selfAttention;
    }

    NDArray forward(NDArray x, NDArray positionBias) {
        NDArray h = x.add(selfAttention.forward(attentionNorm.forward(x), positionBias));
        NDArray n = feedForwardNorm.forward(h);
        NDArray inner = wi == null
                ? Activations.GELU_TANH.apply(wi0.forward(n)).mul(wi1.forward(n))
                : Activation.relu(wi.forward(n));
        return h.add(wo.forward(inner));
    }
}
