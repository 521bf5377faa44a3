package dev.steer.pytorch.flux;

import ai.djl.ndarray.NDArray;
import dev.steer.pytorch.internal.nn.Activations;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;

/** diffusers' {@code FeedForward} with {@code gelu-tanh}: {@code net.2(gelu_tanh(net.0.proj(x)))}, 4x wide. */
final class FeedForward extends Module {
    private final Linear proj;
    private final Linear out;

    FeedForward(long dim) {
        this.proj = child("net.0.proj", new Linear(dim, 4 * dim, true));
        this.out = child("net.2", new Linear(4 * dim, dim, true));
    }

    NDArray forward(NDArray x) {
        return out.forward(Activations.GELU_TANH.apply(proj.forward(x)));
    }
}
