package dev.steer.pytorch.relation;

import ai.djl.ndarray.NDArray;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.nn.Weight;

/**
 * The sinusoidal position encoding of the published classifier: a buffer {@code pe}
 * [1, length, d] with {@code pe[p, 2i] = sin(p / 10000^(2i/d))}, {@code pe[p, 2i+1] = cos(...)},
 * added to a sequence [B, L, d] as {@code x + pe[:, :L]}. The buffer is part of the checkpoint
 * (and is loaded from it as is) but is not trained.
 */
final class PositionalEncoding extends Module {
    private final Weight pe;
    private final int length;
    private final int dim;

    PositionalEncoding(int length, int dim) {
        this.pe = parameter("pe", 1, length, dim);
        this.length = length;
        this.dim = dim;
    }

    /** x [B, L, d] with L at most the buffer's length -> x + pe[:, :L]. */
    NDArray forward(NDArray x) {
        long l = x.getShape().get(1);
        return x.add(inScopeOf(x, value(pe, x).get(":, 0:" + l + ", :")));
    }

    /** The sinusoidal values of this buffer [1, length, d], row-major (within 1e-4 of torch's float32 table). */
    float[] table() {
        return table(length, dim);
    }

    /** The sinusoidal table [length, d] in row-major order. */
    static float[] table(int length, int dim) {
        float[] out = new float[length * dim];
        for (int i = 0; i < dim; i += 2) {
            // torch: div_term = exp(arange(0, d, 2) * (-log(10000) / d)), in float32
            float div = (float) Math.exp(i * (float) (-Math.log(10000.0) / dim));
            for (int p = 0; p < length; p++) {
                float angle = p * div;
                out[p * dim + i] = (float) Math.sin(angle);
                if (i + 1 < dim) {
                    out[p * dim + i + 1] = (float) Math.cos(angle);
                }
            }
        }
        return out;
    }
}
