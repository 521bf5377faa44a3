package dev.steer.core.scheduler;

/**
 * diffusers' {@code EulerDiscreteScheduler} without churn ({@code s_churn} 0, so deterministic):
 * the k-diffusion Euler sampler on sigma = sqrt((1 - alpha_bar) / alpha_bar).
 *
 * <p>Supports {@code prediction_type} epsilon and v_prediction, every {@code timestep_spacing},
 * {@code steps_offset}, {@code interpolation_type} linear and {@code timestep_type} discrete
 * (continuous is accepted with epsilon, where diffusers ignores it) and {@code final_sigmas_type}
 * zero or sigma_min (newer diffusers versions). Timesteps may be fractional
 * (linspace spacing), as in diffusers.
 */
public final class EulerDiscreteScheduler extends AbstractScheduler {
    /** float32 sigma of every training timestep. */
    private final float[] trainSigmas;

    /** Builds the scheduler; see {@link SchedulerConfig} for what is refused. */
    public EulerDiscreteScheduler(SchedulerConfig config) {
        super(SchedulerType.EULER, config);
        if (!config.interpolationType().equals("linear")) {
            throw unsupported("interpolation_type", config.interpolationType(), "only linear");
        }
        if (!config.timestepType().equals("discrete") && !config.timestepType().equals("continuous")) {
            throw unsupported("timestep_type", config.timestepType(), "discrete or continuous");
        }
        if (config.timestepType().equals("continuous") && vPrediction) {
            throw unsupported("timestep_type", config.timestepType(), "the EDM timesteps used with v_prediction are not implemented; use discrete");
        }
        if (!config.finalSigmasType().equals("zero") && !config.finalSigmasType().equals("sigma_min")) {
            throw unsupported("final_sigmas_type", config.finalSigmasType(), "zero or sigma_min");
        }
        this.trainSigmas = Numerics.sigmasFromAlphasCumprod(alphasCumprod);
    }

    @Override
    public Schedule schedule(int numInferenceSteps) {
        checkNumInferenceSteps(numInferenceSteps);
        int n = numInferenceSteps;
        int nt = numTrainTimesteps;
        String spacing = timestepSpacing();
        float[] t;
        switch (spacing) {
            case "linspace": {
                // np.linspace(0, nt - 1, n, dtype=np.float32)[::-1]: float64 values cast to float32
                double[] l = Numerics.linspace(0, nt - 1, n);
                t = new float[n];
                for (int i = 0; i < n; i++) {
                    t[i] = (float) l[n - 1 - i];
                }
                break;
            }
            case "leading": {
                int ratio = nt / n;
                t = new float[n];
                for (int i = 0; i < n; i++) {
                    t[i] = (float) ((n - 1 - i) * ratio) + (float) config.stepsOffset();
                }
                break;
            }
            case "trailing": {
                double[] a = Numerics.arange(nt, 0, -((double) nt / n));
                t = new float[a.length];
                for (int i = 0; i < a.length; i++) {
                    t[i] = (float) Numerics.round(a[i]) - 1f;
                }
                break;
            }
            default:
                throw new IllegalStateException(spacing);
        }
        int[] rounded = new int[t.length];
        // sigmas = np.interp(timesteps, arange(nt), sigmas) in float64, then float32; then the final sigma
        float[] sigmas = new float[t.length + 1];
        sigmas[t.length] = config.finalSigmasType().equals("sigma_min") ? trainSigmas[0] : 0f;
        for (int i = 0; i < t.length; i++) {
            rounded[i] = Numerics.toTimestep(Numerics.round(t[i]), nt, "timestep_spacing " + spacing + " with " + n + " steps");
            sigmas[i] = (float) Numerics.interpUnitGrid(t[i], trainSigmas);
        }
        float maxSigma = 0f;
        for (float s : sigmas) {
            maxSigma = Math.max(maxSigma, s);
        }
        float initNoiseSigma = spacing.equals("leading") ? Numerics.sqrt(maxSigma * maxSigma + 1f) : maxSigma;
        return new EulerSchedule(rounded, t, sigmas, initNoiseSigma);
    }

    private final class EulerSchedule extends BaseSchedule {
        private final float[] sigmas;
        private final float initNoiseSigma;

        EulerSchedule(int[] timesteps, float[] modelTimesteps, float[] sigmas, float initNoiseSigma) {
            super(timesteps, modelTimesteps);
            this.sigmas = sigmas;
            this.initNoiseSigma = initNoiseSigma;
        }

        @Override
        public float initNoiseSigma() {
            return initNoiseSigma;
        }

        @Override
        float[] scale(float[] x, int i) {
            float sigma = sigmas[i];
            float d = Numerics.sqrt(sigma * sigma + 1f);
            float[] out = new float[x.length];
            for (int j = 0; j < x.length; j++) {
                out[j] = x[j] / d;
            }
            return out;
        }

        @Override
        float[] doStep(float[] out, int i, float[] x) {
            float sigma = sigmas[i]; // sigma_hat = sigma * (gamma + 1) with gamma 0
            float[] x0 = predictX0(out, i, x);
            float dt = sigmas[i + 1] - sigma;
            float[] prev = new float[x.length];
            for (int j = 0; j < x.length; j++) {
                float derivative = (x[j] - x0[j]) / sigma;
                prev[j] = x[j] + derivative * dt;
            }
            return prev;
        }

        @Override
        float[] predictX0(float[] out, int i, float[] x) {
            float sigma = sigmas[i];
            float[] x0 = new float[x.length];
            if (vPrediction) {
                // denoised = model_output * c_out + input * c_skip
                float s2p1 = sigma * sigma + 1f;
                float cOut = -sigma / Numerics.sqrt(s2p1);
                for (int j = 0; j < x.length; j++) {
                    x0[j] = out[j] * cOut + x[j] / s2p1;
                }
            } else {
                for (int j = 0; j < x.length; j++) {
                    x0[j] = x[j] - sigma * out[j];
                }
            }
            return x0;
        }
    }
}
