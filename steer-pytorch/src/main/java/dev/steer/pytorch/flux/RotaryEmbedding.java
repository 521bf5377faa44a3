package dev.steer.pytorch.flux;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * FLUX's rotary position embedding (diffusers {@code FluxPosEmbed} with {@code apply_rotary_emb},
 * real form, interleaved pairs): each head's channels are split per position-id axis, and pair
 * (2i, 2i+1) of an axis of width d is rotated by angle pos * theta^(-2i/d). Angles are computed in
 * float64 and stored as float32, as diffusers does on CPU and CUDA.
 *
 * @param cos [L, headDim]
 * @param sin [L, headDim]
 */
record RotaryEmbedding(NDArray cos, NDArray sin) {

    /**
     * The embedding of a joint sequence's position ids.
     *
     * @param ids [L, axes] row-major position ids (text rows zero, image rows (0, row, column))
     * @param axesDims rotary width per axis
     */
    public static RotaryEmbedding of(NDManager manager, float[] ids, int[] axesDims, double theta) {
        int axes = axesDims.length;
        int length = ids.length / axes;
        int dim = 0;
        for (int d : axesDims) {
            dim += d;
        }
        double[][] freqs = new double[axes][];
        for (int a = 0; a < axes; a++) {
            int d = axesDims[a];
            freqs[a] = new double[d / 2];
            for (int i = 0; i < d / 2; i++) {
                freqs[a][i] = 1.0 / Math.pow(theta, (2.0 * i) / d);
            }
        }
        float[] cos = new float[length * dim];
        float[] sin = new float[length * dim];
        for (int l = 0; l < length; l++) {
            int offset = 0;
            for (int a = 0; a < axes; a++) {
                int d = axesDims[a];
                double pos = ids[l * axes + a];
                for (int i = 0; i < d / 2; i++) {
                    double angle = pos * freqs[a][i];
                    float c = (float) Math.cos(angle);
                    float s = (float) Math.sin(angle);
                    int k = l * dim + offset + 2 * i;
                    cos[k] = c;
                    cos[k + 1] = c;
                    sin[k] = s;
                    sin[k + 1] = s;
                }
                offset += d;
            }
        }
        return new RotaryEmbedding(manager.create(cos, new Shape(length, dim)), manager.create(sin, new Shape(length, dim)));
    }

    /** This embedding in another dtype (the transformer's compute dtype). */
    public RotaryEmbedding as(ai.djl.ndarray.types.DataType dtype) {
        return cos.getDataType() == dtype ? this : new RotaryEmbedding(cos.toType(dtype, false), sin.toType(dtype, false));
    }

    /** Rotates x [B, heads, L, headDim]: x * cos + rotate_pairs(x) * sin, rotate_pairs(a, b) = (-b, a). */
    public NDArray apply(NDArray x) {
        Shape s = x.getShape();
        NDArray pairs = x.reshape(s.get(0), s.get(1), s.get(2), s.get(3) / 2, 2);
        NDArray real = pairs.get("..., 0");
        NDArray imag = pairs.get("..., 1");
        NDArray rotated = NDArrays.stack(new NDList(imag.neg(), real), -1).reshape(s);
        return x.mul(cos).add(rotated.mul(sin));
    }
}
