package dev.steer.pytorch.internal.nn;

import ai.djl.ndarray.NDArray;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.nn.Weight;

/** {@code torch.nn.Linear}: y = x W^T + b over the last axis. */
public final class Linear extends Module {
    private final Weight weight;
    private final Weight bias;
    private final long in;
    private final long out;

    /** A linear layer with or without bias. */
    public Linear(long in, long out, boolean bias) {
        this.in = in;
        this.out = out;
        this.weight = parameter("weight", out, in);
        this.bias = bias ? parameter("bias", out) : null;
    }

    /** Applies the layer to the last axis of {@code x}. */
    public NDArray forward(NDArray x) {
        NDArray b = bias == null ? null : value(bias, x);
        NDArray w = value(weight, x);
        NDArray out = ai.djl.nn.core.Linear.linear(x, w, b).singletonOrThrow();
        release(weight, w);
        if (bias != null) {
            release(bias, b);
        }
        return out;
    }

    /** Input features. */
    public long inFeatures() {
        return in;
    }

    /** Output features. */
    public long outFeatures() {
        return out;
    }
}
