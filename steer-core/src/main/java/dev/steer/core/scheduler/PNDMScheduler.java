package dev.steer.core.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' {@code PNDMScheduler} in PLMS mode ({@code skip_prk_steps} true), the default sampler of
 * Stable Diffusion 1.x: a fourth-order linear multistep method warmed up with a second-order step.
 * As in diffusers, n requested steps give n + 1 model evaluations (the second timestep repeats).
 *
 * <p>Supports {@code prediction_type} epsilon and v_prediction, every {@code timestep_spacing},
 * {@code steps_offset} and {@code set_alpha_to_one}. The Runge-Kutta (PRK) warm-up that
 * {@code skip_prk_steps} false selects is not implemented and refused.
 */
public final class PNDMScheduler extends AbstractScheduler {
    private final float finalAlphaCumprod;

    /** Builds the scheduler; see {@link SchedulerConfig} for what is refused. */
    public PNDMScheduler(SchedulerConfig config) {
        super(SchedulerType.PNDM, config);
        if (!config.skipPrkSteps()) {
            throw new IllegalArgumentException("PNDMScheduler: skip_prk_steps false (the default) selects the PRK (Runge-Kutta)"
                    + " warm-up, which is not supported; set \"skip_prk_steps\": true for PLMS, as Stable Diffusion does");
        }
        this.finalAlphaCumprod = config.setAlphaToOneFor(type) ? 1f : alphasCumprod[0];
    }

    @Override
    public Schedule schedule(int numInferenceSteps) {
        checkNumInferenceSteps(numInferenceSteps);
        int n = numInferenceSteps;
        int nt = numTrainTimesteps;
        String spacing = timestepSpacing();
        // diffusers' _timesteps, ascending
        double[] asc;
        switch (spacing) {
            case "linspace": {
                asc = Numerics.linspace(0, nt - 1, n);
                for (int i = 0; i < n; i++) {
                    asc[i] = Numerics.round(asc[i]);
                }
                break;
            }
            case "leading": {
                int ratio = nt / n;
                asc = new double[n];
                for (int i = 0; i < n; i++) {
                    asc[i] = (double) i * ratio + config.stepsOffset();
                }
                break;
            }
            case "trailing": {
                double[] desc = Numerics.arange(nt, 0, -((double) nt / n));
                asc = new double[desc.length];
                for (int i = 0; i < desc.length; i++) {
                    asc[i] = Numerics.round(desc[desc.length - 1 - i]) - 1;
                }
                break;
            }
            default:
                throw new IllegalStateException(spacing);
        }
        // plms_timesteps = concatenate([_t[:-1], _t[-2:-1], _t[-1:]])[::-1]: the second-highest repeats
        int m = asc.length;
        List<Double> plms = new ArrayList<>();
        for (int i = 0; i < m - 1; i++) {
            plms.add(asc[i]);
        }
        if (m >= 2) {
            plms.add(asc[m - 2]);
        }
        plms.add(asc[m - 1]);
        int[] timesteps = new int[plms.size()];
        for (int i = 0; i < timesteps.length; i++) {
            timesteps[i] = Numerics.toTimestep(plms.get(plms.size() - 1 - i), nt, "timestep_spacing " + spacing + " with " + n + " steps");
        }
        return new PlmsSchedule(timesteps, nt / n);
    }

    private float alphaAt(int timestep) {
        return timestep >= 0 ? alphasCumprod[timestep] : finalAlphaCumprod;
    }

    private float alphaAtChecked(int timestep) {
        if (timestep >= numTrainTimesteps) {
            throw new IllegalStateException("PNDM step needs alphas_cumprod[" + timestep + "], beyond num_train_timesteps "
                    + numTrainTimesteps + " (diffusers fails here too); use fewer steps or another steps_offset");
        }
        return alphaAt(timestep);
    }

    private final class PlmsSchedule extends BaseSchedule {
        private final int stride;
        /** The model outputs the multistep formula combines, newest last (diffusers' ets). */
        private final List<float[]> ets = new ArrayList<>();
        private float[] curSample;

        PlmsSchedule(int[] timesteps, int stride) {
            super(timesteps);
            this.stride = stride;
        }

        @Override
        float[] doStep(float[] out, int counter, float[] x) {
            int t = timesteps[counter];
            int prevT = t - stride;
            if (counter != 1) {
                while (ets.size() > 3) {
                    ets.remove(0);
                }
                ets.add(out.clone());
            } else {
                // the repeated timestep: redo the first step from the same sample with averaged outputs
                prevT = t;
                t = t + stride;
            }
            float[] combined = new float[x.length];
            float[] sample = x;
            int k = ets.size();
            if (k == 1 && counter == 0) {
                System.arraycopy(out, 0, combined, 0, x.length);
                curSample = x.clone();
            } else if (k == 1 && counter == 1) {
                float[] e1 = ets.get(0);
                for (int j = 0; j < x.length; j++) {
                    combined[j] = (out[j] + e1[j]) / 2f;
                }
                sample = curSample;
                curSample = null;
            } else if (k == 2) {
                float[] e1 = ets.get(1);
                float[] e2 = ets.get(0);
                for (int j = 0; j < x.length; j++) {
                    combined[j] = (3f * e1[j] - e2[j]) / 2f;
                }
            } else if (k == 3) {
                float[] e1 = ets.get(2);
                float[] e2 = ets.get(1);
                float[] e3 = ets.get(0);
                for (int j = 0; j < x.length; j++) {
                    combined[j] = (23f * e1[j] - 16f * e2[j] + 5f * e3[j]) / 12f;
                }
            } else {
                float[] e1 = ets.get(3);
                float[] e2 = ets.get(2);
                float[] e3 = ets.get(1);
                float[] e4 = ets.get(0);
                float c = (float) (1.0 / 24);
                for (int j = 0; j < x.length; j++) {
                    combined[j] = c * (55f * e1[j] - 59f * e2[j] + 37f * e3[j] - 9f * e4[j]);
                }
            }
            return prevSample(sample, t, prevT, combined);
        }

        /** Formula (9) of the PNDM paper, as diffusers' _get_prev_sample (float32). */
        private float[] prevSample(float[] x, int t, int prevT, float[] out) {
            float a = alphaAtChecked(t);
            float aPrev = alphaAtChecked(prevT);
            float b = 1f - a;
            float bPrev = 1f - aPrev;
            float[] eps = out;
            if (vPrediction) {
                float sa = Numerics.sqrt(a);
                float sb = Numerics.sqrt(b);
                eps = new float[x.length];
                for (int j = 0; j < x.length; j++) {
                    eps[j] = sa * out[j] + sb * x[j];
                }
            }
            float sampleCoeff = Numerics.sqrt(aPrev / a);
            float denom = a * Numerics.sqrt(bPrev) + Numerics.sqrt(a * b * aPrev);
            float diff = aPrev - a;
            float[] prev = new float[x.length];
            for (int j = 0; j < x.length; j++) {
                prev[j] = sampleCoeff * x[j] - diff * eps[j] / denom;
            }
            return prev;
        }

        @Override
        float[] predictX0(float[] out, int i, float[] x) {
            float a = alphasCumprod[timesteps[i]];
            float sa = Numerics.sqrt(a);
            float sb = Numerics.sqrt(1f - a);
            float[] x0 = new float[x.length];
            for (int j = 0; j < x.length; j++) {
                x0[j] = vPrediction ? sa * x[j] - sb * out[j] : (x[j] - sb * out[j]) / sa;
            }
            return x0;
        }
    }
}
