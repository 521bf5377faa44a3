package dev.steer.core.scheduler;

/**
 * diffusers' {@code DPMSolverMultistepScheduler} as DPM-Solver++ 2M: {@code algorithm_type}
 * dpmsolver++ (data prediction), {@code solver_order} 2 (or 1), {@code solver_type} midpoint (or
 * heun), with {@code lower_order_final}, {@code euler_at_final}, {@code final_sigmas_type} zero or
 * sigma_min and {@code lambda_min_clipped} as configured.
 *
 * <p>As in diffusers, the values diffusers silently maps are accepted ({@code algorithm_type} deis
 * runs as dpmsolver++, {@code solver_type} logrho/bh1/bh2 as midpoint). Refused: the SDE and
 * noise-prediction variants, order 3, learned variance.
 */
public final class DPMSolverMultistepScheduler extends AbstractScheduler {
    private final float[] trainSigmas;
    private final int solverOrder;
    private final boolean heun;

    /** Builds the scheduler; see {@link SchedulerConfig} for what is refused. */
    public DPMSolverMultistepScheduler(SchedulerConfig config) {
        super(SchedulerType.DPMPP_2M, config);
        String algorithm = config.algorithmType();
        if (!algorithm.equals("dpmsolver++") && !algorithm.equals("deis")) {
            throw unsupported("algorithm_type", algorithm, "only dpmsolver++");
        }
        String solver = config.solverType();
        switch (solver) {
            case "midpoint", "logrho", "bh1", "bh2" -> this.heun = false;
            case "heun" -> this.heun = true;
            default -> throw unsupported("solver_type", solver, "midpoint or heun");
        }
        if (config.solverOrder() != 1 && config.solverOrder() != 2) {
            throw unsupported("solver_order", config.solverOrder(), "1 or 2");
        }
        this.solverOrder = config.solverOrder();
        if (!config.finalSigmasType().equals("zero") && !config.finalSigmasType().equals("sigma_min")) {
            throw unsupported("final_sigmas_type", config.finalSigmasType(), "zero or sigma_min");
        }
        if (config.varianceType() != null) {
            throw unsupported("variance_type", config.varianceType(), "only null: learned variance is not supported");
        }
        if (Double.isNaN(config.lambdaMinClipped())) {
            throw unsupported("lambda_min_clipped", config.lambdaMinClipped(), "a number");
        }
        this.trainSigmas = Numerics.sigmasFromAlphasCumprod(alphasCumprod);
    }

    @Override
    public Schedule schedule(int numInferenceSteps) {
        checkNumInferenceSteps(numInferenceSteps);
        int n = numInferenceSteps;
        int nt = numTrainTimesteps;
        int last = nt - clippedIndex();
        String spacing = timestepSpacing();
        double[] t;
        switch (spacing) {
            case "linspace": {
                // np.linspace(0, last - 1, n + 1).round()[::-1][:-1]
                double[] l = Numerics.linspace(0, last - 1, n + 1);
                t = new double[n];
                for (int i = 0; i < n; i++) {
                    t[i] = Numerics.round(l[n - i]);
                }
                break;
            }
            case "leading": {
                int ratio = last / (n + 1);
                t = new double[n];
                for (int i = 0; i < n; i++) {
                    t[i] = (double) (n - i) * ratio + config.stepsOffset();
                }
                break;
            }
            case "trailing": {
                t = Numerics.arange(last, 0, -((double) nt / n));
                for (int i = 0; i < t.length; i++) {
                    t[i] = Numerics.round(t[i]) - 1;
                }
                break;
            }
            default:
                throw new IllegalStateException(spacing);
        }
        int[] timesteps = new int[t.length];
        float[] sigmas = new float[t.length + 1];
        for (int i = 0; i < t.length; i++) {
            timesteps[i] = Numerics.toTimestep(t[i], nt, "timestep_spacing " + spacing + " with " + n + " steps");
            sigmas[i] = trainSigmas[timesteps[i]]; // np.interp at integer points is exact
        }
        sigmas[t.length] = config.finalSigmasType().equals("sigma_min") ? trainSigmas[0] : 0f;
        return new DpmSchedule(timesteps, sigmas);
    }

    /** torch.searchsorted(flip(lambda_t), lambda_min_clipped): how many of the noisiest steps are clipped away. */
    private int clippedIndex() {
        double clip = config.lambdaMinClipped();
        if (clip == Double.NEGATIVE_INFINITY) {
            return 0;
        }
        float c = (float) clip;
        int count = 0;
        for (int i = alphasCumprod.length - 1; i >= 0; i--) {
            float a = alphasCumprod[i];
            float lambda = Numerics.log(Numerics.sqrt(a)) - Numerics.log(Numerics.sqrt(1f - a));
            if (lambda < c) {
                count++;
            } else {
                break;
            }
        }
        return count;
    }

    /** alpha_t and sigma_t of the VP parameterisation for a k-diffusion sigma (float32, as _sigma_to_alpha_sigma_t). */
    private static float[] alphaSigma(float sigma) {
        float alpha = 1f / Numerics.sqrt(sigma * sigma + 1f);
        return new float[] {alpha, sigma * alpha};
    }

    private static float lambda(float[] alphaSigma) {
        return Numerics.log(alphaSigma[0]) - Numerics.log(alphaSigma[1]);
    }

    private final class DpmSchedule extends BaseSchedule {
        private final float[] sigmas;
        /** Data predictions of the last two steps, newest last (diffusers' model_outputs). */
        private float[] previousX0;
        private int lowerOrderNums;

        DpmSchedule(int[] timesteps, float[] sigmas) {
            super(timesteps);
            this.sigmas = sigmas;
        }

        @Override
        float[] predictX0(float[] out, int i, float[] x) {
            float[] as = alphaSigma(sigmas[i]);
            float alpha = as[0];
            float sigma = as[1];
            float[] x0 = new float[x.length];
            for (int j = 0; j < x.length; j++) {
                x0[j] = vPrediction ? alpha * x[j] - sigma * out[j] : (x[j] - sigma * out[j]) / alpha;
            }
            return x0;
        }

        @Override
        float[] doStep(float[] out, int i, float[] x) {
            int n = size();
            boolean lowerOrderFinal = i == n - 1 && (config.eulerAtFinal() || (config.lowerOrderFinal() && n < 15)
                    || config.finalSigmasType().equals("zero"));
            float[] m0 = predictX0(out, i, x);
            float[] m1 = previousX0;
            previousX0 = m0;
            float[] prev;
            // with order <= 2, diffusers' "lower_order_second" branch leads to the second-order update too
            if (solverOrder == 1 || lowerOrderNums < 1 || lowerOrderFinal) {
                prev = firstOrder(m0, i, x);
            } else {
                prev = secondOrder(m0, m1, i, x);
            }
            if (lowerOrderNums < solverOrder) {
                lowerOrderNums++;
            }
            return prev;
        }

        private float[] firstOrder(float[] m0, int i, float[] x) {
            float[] t = alphaSigma(sigmas[i + 1]);
            float[] s = alphaSigma(sigmas[i]);
            float h = lambda(t) - lambda(s); // +inf when the target sigma is 0: the update returns x0
            float cx = t[1] / s[1];
            float cm = t[0] * (Numerics.exp(-h) - 1f);
            float[] prev = new float[x.length];
            for (int j = 0; j < x.length; j++) {
                prev[j] = cx * x[j] - cm * m0[j];
            }
            return prev;
        }

        private float[] secondOrder(float[] m0, float[] m1, int i, float[] x) {
            float[] t = alphaSigma(sigmas[i + 1]);
            float[] s0 = alphaSigma(sigmas[i]);
            float[] s1 = alphaSigma(sigmas[i - 1]);
            float lambdaT = lambda(t);
            float lambdaS0 = lambda(s0);
            float lambdaS1 = lambda(s1);
            float h = lambdaT - lambdaS0;
            float h0 = lambdaS0 - lambdaS1;
            float r0 = h0 / h;
            float d1Coeff = 1f / r0;
            float expm1 = Numerics.exp(-h) - 1f;
            float cx = t[1] / s0[1];
            float c0 = t[0] * expm1;
            float[] prev = new float[x.length];
            if (heun) {
                float c1 = t[0] * (expm1 / h + 1f);
                for (int j = 0; j < x.length; j++) {
                    float d1 = d1Coeff * (m0[j] - m1[j]);
                    prev[j] = cx * x[j] - c0 * m0[j] + c1 * d1;
                }
            } else {
                float c1 = 0.5f * c0;
                for (int j = 0; j < x.length; j++) {
                    float d1 = d1Coeff * (m0[j] - m1[j]);
                    prev[j] = cx * x[j] - c0 * m0[j] - c1 * d1;
                }
            }
            return prev;
        }
    }
}
