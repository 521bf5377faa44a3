package dev.steer.pytorch.internal.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Sinusoidal timestep features, diffusers' {@code get_timestep_embedding} (max period 10000, scale 1),
 * computed in float32 as diffusers does. The UNet embeds the timestep with it, FLUX the timestep and
 * the guidance value.
 */
public final class TimestepFeatures {
    private TimestepFeatures() {
    }

    /**
     * Features [batch, dim] for one value per batch item (or one value for all).
     *
     * @param values the timesteps (or guidance values), 1 or {@code batch} of them
     * @param flipSinToCos cos before sin (true for SD and FLUX)
     * @param freqShift {@code downscale_freq_shift} (0 for FLUX, SD's config says)
     */
    public static NDArray of(NDManager manager, float[] values, long batch, int dim, boolean flipSinToCos, int freqShift) {
        if (values.length != batch && values.length != 1) {
            throw new IllegalArgumentException("need 1 or " + batch + " timesteps, got " + values.length);
        }
        int half = dim / 2;
        float[] freqs = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (-Math.log(10000.0)) * i / (half - freqShift);
            freqs[i] = (float) Math.exp(exponent);
        }
        float[] emb = new float[(int) batch * dim];
        for (int b = 0; b < batch; b++) {
            float tb = values.length == 1 ? values[0] : values[b];
            for (int i = 0; i < half; i++) {
                float arg = tb * freqs[i];
                float sin = (float) Math.sin(arg);
                float cos = (float) Math.cos(arg);
                emb[b * dim + i] = flipSinToCos ? cos : sin;
                emb[b * dim + half + i] = flipSinToCos ? sin : cos;
            }
        }
        return manager.create(emb, new Shape(batch, dim));
    }
}
