package dev.steer.core.scheduler;

/**
 * diffusers' {@code DDIMScheduler} with eta 0 (deterministic), plus the inverse step used by DDIM
 * inversion ({@link #invertStep}).
 *
 * <p>Supports {@code prediction_type} epsilon and v_prediction, every {@code timestep_spacing},
 * {@code steps_offset}, {@code set_alpha_to_one} and {@code clip_sample}/{@code clip_sample_range}.
 * As in diffusers, the previous timestep of a step is always {@code t - num_train_timesteps / n}
 * (integer division), whatever the spacing.
 */
public final class DDIMScheduler extends AbstractScheduler {
    private final float finalAlphaCumprod;
    private final boolean clipSample;
    private final float clipRange;

    /** Builds the scheduler; see {@link SchedulerConfig} for what is refused. */
    public DDIMScheduler(SchedulerConfig config) {
        super(SchedulerType.DDIM, config);
        this.finalAlphaCumprod = config.setAlphaToOneFor(type) ? 1f : alphasCumprod[0];
        this.clipSample = config.clipSample();
        this.clipRange = (float) config.clipSampleRange();
    }

    @Override
    public Schedule schedule(int numInferenceSteps) {
        checkNumInferenceSteps(numInferenceSteps);
        return new DdimSchedule(timesteps(numInferenceSteps), numInferenceSteps);
    }

    /** diffusers' set_timesteps (descending integer timesteps). */
    private int[] timesteps(int n) {
        int nt = numTrainTimesteps;
        String spacing = timestepSpacing();
        double[] t;
        switch (spacing) {
            case "linspace": {
                double[] l = Numerics.linspace(0, nt - 1, n);
                t = new double[n];
                for (int i = 0; i < n; i++) {
                    t[i] = Numerics.round(l[n - 1 - i]);
                }
                break;
            }
            case "leading": {
                int ratio = nt / n;
                t = new double[n];
                for (int i = 0; i < n; i++) {
                    t[i] = (double) (n - 1 - i) * ratio + config.stepsOffset();
                }
                break;
            }
            case "trailing": {
                t = Numerics.arange(nt, 0, -((double) nt / n));
                for (int i = 0; i < t.length; i++) {
                    t[i] = Numerics.round(t[i]) - 1;
                }
                break;
            }
            default:
                throw new IllegalStateException(spacing);
        }
        int[] out = new int[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = Numerics.toTimestep(t[i], nt, "timestep_spacing " + spacing + " with " + n + " steps");
        }
        return out;
    }

    private float alphaAt(int timestep) {
        return timestep >= 0 ? alphasCumprod[timestep] : finalAlphaCumprod;
    }

    /**
     * The deterministic DDIM step from a less noisy timestep to a noisier one (DDIM inversion, as in
     * diffusers' {@code DDIMInverseScheduler} with eta 0): estimates x0 and epsilon at
     * {@code fromTimestep}, then re-noises to {@code toTimestep}. The inverse of the forward
     * {@link Schedule#step} from {@code toTimestep} to {@code fromTimestep} given the same model output.
     *
     * @param modelOutput  the model's prediction (per {@code prediction_type}) for {@code sample} at {@code fromTimestep}
     * @param fromTimestep the current timestep; a negative value stands for the clean end of the
     *                     schedule (alpha = 1 with {@code set_alpha_to_one}, else alphas_cumprod[0])
     * @param toTimestep   the target timestep, greater than {@code fromTimestep}
     * @param sample       the latent at {@code fromTimestep}
     * @return a new array: the latent at {@code toTimestep}
     */
    public float[] invertStep(float[] modelOutput, int fromTimestep, int toTimestep, float[] sample) {
        Numerics.requireSameLength(modelOutput, "modelOutput", sample, "sample");
        if (toTimestep >= numTrainTimesteps || toTimestep <= fromTimestep || fromTimestep >= numTrainTimesteps) {
            throw new IllegalArgumentException("invertStep goes from a lower timestep to a higher one within [0, "
                    + numTrainTimesteps + "): got " + fromTimestep + " -> " + toTimestep);
        }
        return ddimUpdate(modelOutput, alphaAt(fromTimestep), alphasCumprod[toTimestep], sample);
    }

    /** x0 and epsilon at alpha {@code aT}, then the eta-0 DDIM update to alpha {@code aNext} (all float32, as diffusers). */
    private float[] ddimUpdate(float[] out, float aT, float aNext, float[] x) {
        float[] x0 = new float[x.length];
        float[] eps = new float[x.length];
        predict(out, aT, x, x0, eps);
        float sa = Numerics.sqrt(aNext);
        float dir = Numerics.sqrt(1f - aNext - 0f); // (1 - alpha_prev - std_dev_t**2) ** 0.5 with std_dev_t = 0
        float[] prev = new float[x.length];
        for (int j = 0; j < x.length; j++) {
            prev[j] = sa * x0[j] + dir * eps[j];
        }
        return prev;
    }

    /** Fills x0 (clipped if configured) and epsilon from the model output at alpha {@code a}. */
    private void predict(float[] out, float a, float[] x, float[] x0, float[] eps) {
        float sa = Numerics.sqrt(a);
        float sb = Numerics.sqrt(1f - a);
        for (int j = 0; j < x.length; j++) {
            if (vPrediction) {
                x0[j] = sa * x[j] - sb * out[j];
                eps[j] = sa * out[j] + sb * x[j];
            } else {
                x0[j] = (x[j] - sb * out[j]) / sa;
                eps[j] = out[j];
            }
            if (clipSample) {
                x0[j] = Math.max(-clipRange, Math.min(clipRange, x0[j]));
            }
        }
    }

    private final class DdimSchedule extends BaseSchedule {
        private final int stride;

        DdimSchedule(int[] timesteps, int numInferenceSteps) {
            super(timesteps);
            this.stride = numTrainTimesteps / numInferenceSteps;
        }

        @Override
        float[] doStep(float[] out, int i, float[] x) {
            int t = timesteps[i];
            return ddimUpdate(out, alphasCumprod[t], alphaAt(t - stride), x);
        }

        @Override
        float[] predictX0(float[] out, int i, float[] x) {
            float[] x0 = new float[x.length];
            predict(out, alphasCumprod[timesteps[i]], x, x0, new float[x.length]);
            return x0;
        }
    }
}
