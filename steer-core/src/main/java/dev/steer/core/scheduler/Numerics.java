package dev.steer.core.scheduler;

/**
 * The numpy and torch (CPU) computations the diffusers schedulers rely on, reproduced with the same
 * dtypes: numpy works in float64, torch tensors here are float32 (Java {@code float} arithmetic is
 * IEEE single precision, so elementwise float32 ops round exactly as torch's do).
 */
final class Numerics {
    private Numerics() {
    }

    // ---- torch float32 --------------------------------------------------------------------------

    /** Float lanes of torch's AVX2 {@code Vectorized<float>}. */
    private static final int TORCH_VEC_LANES = 8;

    /**
     * {@code torch.linspace(start, end, steps, dtype=torch.float32)} as torch's x86-64 CPU kernel
     * (AVX2 build) computes it, last bits included: the first half counts up from start, the second
     * half down from end; values come in blocks of two 8-lane vectors, each vector starting from a base
     * computed like a scalar element and stepping by {@code step} per lane, then a scalar tail. The
     * compiler contracts {@code a + b * c} into fused multiply-adds there, hence {@link Math#fma}.
     * The last bits of the betas move alphas_cumprod by float32 ulps; this reproduces the reference
     * fixtures exactly.
     */
    static float[] torchLinspace(double start, double end, int steps) {
        float s = (float) start;
        float e = (float) end;
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = s;
            return out;
        }
        float step = (e - s) / (float) (steps - 1);
        int halfway = steps / 2;
        int idx = 0;
        for (; idx <= steps - 2 * TORCH_VEC_LANES; idx += 2 * TORCH_VEC_LANES) {
            for (int v = idx; v < idx + 2 * TORCH_VEC_LANES; v += TORCH_VEC_LANES) {
                float base = torchLinspaceScalar(s, e, step, steps, halfway, v);
                for (int lane = 0; lane < TORCH_VEC_LANES; lane++) {
                    out[v + lane] = Math.fma((float) lane, step, base);
                }
            }
        }
        for (; idx < steps; idx++) {
            out[idx] = torchLinspaceScalar(s, e, step, steps, halfway, idx);
        }
        return out;
    }

    private static float torchLinspaceScalar(float s, float e, float step, int steps, int halfway, int idx) {
        return idx < halfway ? Math.fma(step, (float) idx, s) : Math.fma(-step, (float) (steps - idx - 1), e);
    }

    /** The betas of a training schedule, as the float32 tensor diffusers builds. */
    static float[] betas(SchedulerConfig c) {
        int n = c.numTrainTimesteps();
        switch (c.betaSchedule()) {
            case "linear":
                return torchLinspace(c.betaStart(), c.betaEnd(), n);
            case "scaled_linear": {
                // torch.linspace(beta_start**0.5, beta_end**0.5, n, float32) ** 2, squared in float32
                float[] b = torchLinspace(Math.sqrt(c.betaStart()), Math.sqrt(c.betaEnd()), n);
                for (int i = 0; i < n; i++) {
                    b[i] = b[i] * b[i];
                }
                return b;
            }
            case "squaredcos_cap_v2": {
                // betas_for_alpha_bar: Python floats, then torch.tensor(..., float32)
                float[] b = new float[n];
                for (int i = 0; i < n; i++) {
                    double t1 = (double) i / n;
                    double t2 = (double) (i + 1) / n;
                    b[i] = (float) Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), 0.999);
                }
                return b;
            }
            default:
                throw new IllegalArgumentException("beta_schedule \"" + c.betaSchedule() + "\" is not supported");
        }
    }

    private static double cosineAlphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /**
     * {@code torch.cumprod(1.0 - betas, dim=0)} on CPU: alphas are float32, the running product is
     * accumulated in double (torch's CPU accumulate type for float) and stored as float32.
     */
    static float[] alphasCumprod(float[] betas) {
        float[] out = new float[betas.length];
        double acc = 1.0;
        for (int i = 0; i < betas.length; i++) {
            float alpha = 1f - betas[i];
            acc *= alpha;
            out[i] = (float) acc;
        }
        return out;
    }

    /** float32 square root (correctly rounded, as torch's). */
    static float sqrt(float x) {
        return (float) Math.sqrt(x);
    }

    /** float32 natural log (torch's is within an ulp; this one is correctly rounded almost always). */
    static float log(float x) {
        return (float) Math.log(x);
    }

    /** float32 exponential. */
    static float exp(float x) {
        return (float) Math.exp(x);
    }

    /** {@code ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5} in float32: the k-diffusion sigmas per training step. */
    static float[] sigmasFromAlphasCumprod(float[] ac) {
        float[] s = new float[ac.length];
        for (int i = 0; i < ac.length; i++) {
            s[i] = sqrt((1f - ac[i]) / ac[i]);
        }
        return s;
    }

    // ---- numpy float64 ---------------------------------------------------------------------------

    /** {@code np.linspace(start, stop, num)} (endpoint included, float64). */
    static double[] linspace(double start, double stop, int num) {
        double[] y = new double[num];
        if (num == 1) {
            y[0] = start;
            return y;
        }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) {
            y[i] = i * step + start;
        }
        y[num - 1] = stop;
        return y;
    }

    /**
     * {@code np.arange(start, stop, step)} for float64: numpy's length rule and its fill rule (the
     * increment is recomputed as {@code (start + step) - start}).
     */
    static double[] arange(double start, double stop, double step) {
        double len = Math.ceil((stop - start) / step);
        if (!(len > 0)) {
            return new double[0];
        }
        if (len > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("arange too long");
        }
        double[] y = new double[(int) len];
        y[0] = start;
        if (y.length > 1) {
            y[1] = start + step;
            double delta = y[1] - start;
            for (int i = 2; i < y.length; i++) {
                y[i] = start + i * delta;
            }
        }
        return y;
    }

    /** {@code np.round}: half to even. */
    static double round(double x) {
        return Math.rint(x);
    }

    /** {@code np.interp(x, arange(len(fp)), fp)} for one point, fp given as float32 values. */
    static double interpUnitGrid(double x, float[] fp) {
        int last = fp.length - 1;
        if (x <= 0) {
            return fp[0];
        }
        if (x >= last) {
            return fp[last];
        }
        int j = (int) Math.floor(x);
        if (x == j) {
            return fp[j];
        }
        double slope = (double) fp[j + 1] - fp[j]; // divided by xp[j + 1] - xp[j] = 1
        return slope * (x - j) + fp[j];
    }

    /** {@code x.astype(np.int64)} for already-integral values, checking they are timesteps. */
    static int toTimestep(double x, int numTrainTimesteps, String what) {
        if (!(x >= 0 && x < numTrainTimesteps) || x != Math.rint(x)) {
            throw new IllegalArgumentException(what + " produced timestep " + x + " outside [0, " + numTrainTimesteps
                    + "); check steps_offset and the number of steps");
        }
        return (int) x;
    }

    // ---- arrays ------------------------------------------------------------------------------------

    static void requireSameLength(float[] a, String aName, float[] b, String bName) {
        if (a == null || b == null) {
            throw new NullPointerException((a == null ? aName : bName) + " is null");
        }
        if (a.length != b.length) {
            throw new IllegalArgumentException(aName + " has " + a.length + " values but " + bName + " has " + b.length);
        }
    }
}
