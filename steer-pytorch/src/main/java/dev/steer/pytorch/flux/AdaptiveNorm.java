package dev.steer.pytorch.flux;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.steer.pytorch.internal.nn.Activations;
import dev.steer.pytorch.internal.nn.LayerNorm;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;

/**
 * FLUX's adaptive layer norms: {@code linear(silu(conditioning))} split into {@code parts} vectors
 * per batch item that shift, scale and gate the block (diffusers' {@code AdaLayerNormZero}: 6 parts,
 * {@code AdaLayerNormZeroSingle}: 3, {@code AdaLayerNormContinuous}: 2, scale first). The norm itself
 * has no affine parameters and eps 1e-6.
 */
final class AdaptiveNorm extends Module {
    static final float EPS = 1e-6f;
    private final Linear linear;
    private final int parts;

    AdaptiveNorm(long dim, int parts) {
        this.linear = child("linear", new Linear(dim, parts * dim, true));
        this.parts = parts;
    }

    /** The modulation vectors, each [B, 1, dim] so they broadcast over tokens. */
    NDList modulation(NDArray conditioning) {
        NDArray emb = linear.forward(Activations.SILU.apply(conditioning)).expandDims(1);
        return emb.split(parts, 2);
    }

    /** norm(x) * (1 + scale) + shift. */
    static NDArray modulate(NDArray x, NDArray shift, NDArray scale) {
        return LayerNorm.withoutAffine(x, EPS).mul(scale.add(1f)).add(shift);
    }
}
