package dev.steer.core.internal.attention;

/**
 * Bilinear resampling with torch's {@code interpolate(mode="bilinear", align_corners=False)}
 * convention and no antialiasing, which is what the reference probes use: output coordinate d
 * reads source coordinate (d + 0.5) * in / out - 0.5, clamped at 0, between its lower neighbour and
 * the next one (clamped to the last row or column); weights computed in float as torch's CPU kernel
 * does. The one definition both backends resize attention maps with (DJL's own bilinear
 * interpolation antialiases when it downsamples, which the reference does not).
 */
public final class BilinearResize {
    private BilinearResize() {
    }

    /** The two source taps and the upper tap's weight of each output coordinate along one axis. */
    private record Taps(int[] lower, int[] upper, float[] upperWeight) {
    }

    private static Taps taps(int in, int out) {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("sizes must be positive, got " + in + " -> " + out);
        }
        float scale = (float) in / out;
        int[] lower = new int[out];
        int[] upper = new int[out];
        float[] weight = new float[out];
        for (int d = 0; d < out; d++) {
            float f = Math.max(scale * (d + 0.5f) - 0.5f, 0f);
            lower[d] = (int) f;
            upper[d] = lower[d] + (lower[d] < in - 1 ? 1 : 0);
            weight[d] = f - lower[d];
        }
        return new Taps(lower, upper, weight);
    }

    /**
     * The resampling of one axis as a matrix [out, in] (row-major): resizing a map is then
     * {@code M_rows x map x M_columns^T}, which a backend can differentiate.
     */
    public static float[] matrix(int in, int out) {
        Taps t = taps(in, out);
        float[] m = new float[out * in];
        for (int d = 0; d < out; d++) {
            m[d * in + t.lower[d]] += 1f - t.upperWeight[d];
            m[d * in + t.upper[d]] += t.upperWeight[d];
        }
        return m;
    }

    /** Resamples one [height, width] map to [outHeight, outWidth]. */
    public static float[] resize(float[] src, int height, int width, int outHeight, int outWidth) {
        if (src.length != height * width) {
            throw new IllegalArgumentException(src.length + " values are not a " + height + "x" + width + " map");
        }
        Taps ty = taps(height, outHeight);
        Taps tx = taps(width, outWidth);
        float[] out = new float[outHeight * outWidth];
        for (int y = 0; y < outHeight; y++) {
            int y0 = ty.lower[y];
            int y1 = ty.upper[y];
            float ly = ty.upperWeight[y];
            float hy = 1f - ly;
            for (int x = 0; x < outWidth; x++) {
                int x0 = tx.lower[x];
                int x1 = tx.upper[x];
                float lx = tx.upperWeight[x];
                float hx = 1f - lx;
                out[y * outWidth + x] = hy * (hx * src[y0 * width + x0] + lx * src[y0 * width + x1])
                        + ly * (hx * src[y1 * width + x0] + lx * src[y1 * width + x1]);
            }
        }
        return out;
    }
}
