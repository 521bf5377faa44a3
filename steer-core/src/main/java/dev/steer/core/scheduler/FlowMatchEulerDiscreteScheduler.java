package dev.steer.core.scheduler;

import java.util.Objects;

/**
 * diffusers' {@code FlowMatchEulerDiscreteScheduler} (0.32.2) as {@code FluxPipeline} drives it: the Euler
 * sampler of rectified flow, where the latent at noise level sigma is {@code (1 - sigma) x0 + sigma noise}
 * and the model predicts the velocity {@code v = noise - x0}.
 *
 * <p>Timesteps are set as FluxPipeline sets them, passing its own sigmas
 * {@code linspace(1, 1/n, n)} (float64, then cast to float32) and {@code mu}:
 * <ul>
 * <li>{@code use_dynamic_shifting} (FLUX.1-dev): {@code mu = calculate_shift(imageSequenceLength)} in
 * float64 ({@link #mu(int)}), and {@code sigma = e^mu / (e^mu + (1/s - 1))} evaluated in float32;</li>
 * <li>otherwise (FLUX.1-schnell): {@code sigma = shift s / (1 + (shift - 1) s)} in float32 (the identity
 * for shift 1).</li>
 * </ul>
 * The model timesteps are {@code sigma * num_train_timesteps} (float32) and the sigmas get a final 0. A
 * step is {@code x + (sigma_next - sigma) v} in float32; the model input is not scaled and the initial
 * noise has standard deviation 1.
 *
 * <p>With dynamic shifting the schedule depends on the image size, so {@link #schedule(int)} is refused
 * and {@link #schedule(int, int)} must be used. There is no beta schedule: {@link #alphasCumprod()} throws.
 * {@code invert_sigmas}, {@code shift_terminal} and Karras/exponential/beta sigmas are refused by
 * {@link SchedulerConfig}.
 */
public final class FlowMatchEulerDiscreteScheduler implements Scheduler {
    private final SchedulerConfig config;

    /**
     * Builds the scheduler from the flow-matching keys of {@code config} ({@code shift},
     * {@code use_dynamic_shifting}, {@code base_shift}, {@code max_shift}, {@code base_image_seq_len},
     * {@code max_image_seq_len}, {@code num_train_timesteps}); beta and DDPM keys are ignored.
     *
     * @throws IllegalArgumentException naming the key when a flow-matching option has an unusable value
     */
    public FlowMatchEulerDiscreteScheduler(SchedulerConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        if (!(config.shift() > 0) || Double.isInfinite(config.shift())) {
            throw unsupported("shift", config.shift(), "a positive number");
        }
        if (config.useDynamicShifting()) {
            if (!Double.isFinite(config.baseShift()) || !Double.isFinite(config.maxShift())) {
                throw unsupported("base_shift/max_shift", config.baseShift() + "/" + config.maxShift(), "finite numbers");
            }
            if (config.baseImageSeqLen() == config.maxImageSeqLen()) {
                throw unsupported("base_image_seq_len/max_image_seq_len", config.baseImageSeqLen() + "/" + config.maxImageSeqLen(),
                        "two different lengths: calculate_shift interpolates between them");
            }
        }
    }

    @Override
    public SchedulerType type() {
        return SchedulerType.FLOW_MATCH_EULER;
    }

    @Override
    public SchedulerConfig config() {
        return config;
    }

    /**
     * Not supported: flow matching has no beta schedule and no alphas_cumprod.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public double[] alphasCumprod() {
        throw new UnsupportedOperationException("FlowMatchEulerDiscreteScheduler has no beta schedule and therefore no alphas_cumprod "
                + "(the latent at noise level sigma is (1 - sigma) x0 + sigma noise; use FlowMatchSchedule.sigmas())");
    }

    /** Whether the sigmas are shifted by mu = calculate_shift(image sequence length) ({@code use_dynamic_shifting}). */
    public boolean usesDynamicShifting() {
        return config.useDynamicShifting();
    }

    /**
     * diffusers' {@code calculate_shift} as FluxPipeline calls it with the config's {@code base_image_seq_len},
     * {@code max_image_seq_len}, {@code base_shift} and {@code max_shift}, in float64:
     * {@code m = (max_shift - base_shift) / (max_len - base_len)}, {@code mu = len m + (base_shift - m base_len)}.
     * Computed for any config; it only affects the schedule with dynamic shifting.
     *
     * @throws IllegalArgumentException if {@code imageSequenceLength} is not positive
     */
    public double mu(int imageSequenceLength) {
        if (imageSequenceLength < 1) {
            throw new IllegalArgumentException("imageSequenceLength must be positive, got " + imageSequenceLength);
        }
        double m = (config.maxShift() - config.baseShift()) / (config.maxImageSeqLen() - config.baseImageSeqLen());
        double b = config.baseShift() - m * config.baseImageSeqLen();
        return imageSequenceLength * m + b;
    }

    /**
     * The schedule without dynamic shifting (FLUX.1-schnell's configuration).
     *
     * @throws IllegalStateException    if the config uses dynamic shifting: the sigmas then depend on the
     *                                  image's sequence length; call {@link #schedule(int, int)}
     * @throws IllegalArgumentException if {@code numInferenceSteps} is less than 1
     */
    @Override
    public FlowMatchSchedule schedule(int numInferenceSteps) {
        if (config.useDynamicShifting()) {
            throw new IllegalStateException("FlowMatchEulerDiscreteScheduler with use_dynamic_shifting needs the image sequence length "
                    + "(its sigmas are shifted by mu = calculate_shift(image_seq_len)): call schedule(numInferenceSteps, "
                    + "imageSequenceLength), e.g. (height / 16) * (width / 16) tokens for FLUX");
        }
        return build(numInferenceSteps, Double.NaN);
    }

    /**
     * The schedule for latents of {@code imageSequenceLength} tokens; the length matters only with dynamic
     * shifting.
     *
     * @throws IllegalArgumentException if {@code numInferenceSteps} or {@code imageSequenceLength} is less than 1
     */
    @Override
    public FlowMatchSchedule schedule(int numInferenceSteps, int imageSequenceLength) {
        double mu = mu(imageSequenceLength);
        return build(numInferenceSteps, config.useDynamicShifting() ? mu : Double.NaN);
    }

    private FlowMatchSchedule build(int n, double mu) {
        if (n < 1) {
            throw new IllegalArgumentException("numInferenceSteps must be at least 1, got " + n);
        }
        // FluxPipeline: np.linspace(1.0, 1 / n, n); set_timesteps: np.array(sigmas).astype(np.float32)
        double[] lin = Numerics.linspace(1.0, 1.0 / n, n);
        float[] sigmas = new float[n + 1];
        if (config.useDynamicShifting()) {
            // time_shift(mu, 1.0, sigmas) = math.exp(mu) / (math.exp(mu) + (1 / sigmas - 1) ** 1.0): a Python float
            // against a float32 array, so every operation is float32
            float e = (float) Math.exp(mu);
            for (int i = 0; i < n; i++) {
                float s = (float) lin[i];
                sigmas[i] = e / (e + (1f / s - 1f));
            }
        } else {
            // self.shift * sigmas / (1 + (self.shift - 1) * sigmas), float32
            float shift = (float) config.shift();
            float shiftMinusOne = (float) (config.shift() - 1);
            for (int i = 0; i < n; i++) {
                float s = (float) lin[i];
                sigmas[i] = shift * s / (1f + shiftMinusOne * s);
            }
        }
        sigmas[n] = 0f; // torch.cat([sigmas, torch.zeros(1)])
        int nt = config.numTrainTimesteps();
        float[] modelTimesteps = new float[n];
        int[] timesteps = new int[n];
        for (int i = 0; i < n; i++) {
            modelTimesteps[i] = sigmas[i] * (float) nt;
            timesteps[i] = (int) Numerics.round(modelTimesteps[i]);
        }
        return new FlowMatchSchedule(timesteps, modelTimesteps, sigmas, mu);
    }

    private IllegalArgumentException unsupported(String key, Object value, String supported) {
        return new IllegalArgumentException(type().diffusersClassName() + ": " + key + " \"" + value + "\" is not supported ("
                + supported + ")");
    }

    @Override
    public String toString() {
        return type().diffusersClassName() + "[" + config + "]";
    }
}
