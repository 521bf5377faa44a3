package dev.steer.core.scheduler;

import java.util.Objects;

/**
 * One generation's run through a {@link FlowMatchEulerDiscreteScheduler}: timesteps {@code sigma * 1000}
 * and the sigmas themselves, which inversion and steering need (the latent at step {@code i} is
 * {@code (1 - sigmas()[i]) x0 + sigmas()[i] noise}).
 *
 * <p>{@link #timesteps()} are the model timesteps rounded half to even; {@link #modelTimesteps()} are the
 * float32 values FluxPipeline passes (divided by 1000) to the transformer. The model input is the latent
 * itself ({@link #scaleModelInput} returns {@code sample}), the initial noise has standard deviation 1, and
 * {@link #step} is {@code x + (sigma_{i+1} - sigma_i) v} in float32. Not thread-safe.
 */
public final class FlowMatchSchedule extends BaseSchedule {
    private final float[] sigmas;
    private final double mu;

    FlowMatchSchedule(int[] timesteps, float[] modelTimesteps, float[] sigmas, double mu) {
        super(timesteps, modelTimesteps);
        this.sigmas = sigmas;
        this.mu = mu;
    }

    /** The float32 sigmas, one per step plus the final 0 ({@code size() + 1} values, decreasing from 1). A fresh copy. */
    public float[] sigmas() {
        return sigmas.clone();
    }

    /**
     * The sigma of step {@code stepIndex}; {@code sigma(size())} is the final 0.
     *
     * @throws IndexOutOfBoundsException if {@code stepIndex} is not in [0, size()]
     */
    public float sigma(int stepIndex) {
        Objects.checkIndex(stepIndex, sigmas.length);
        return sigmas[stepIndex];
    }

    /** The mu the sigmas were shifted by (dynamic shifting), or NaN when the schedule uses the static shift. */
    public double mu() {
        return mu;
    }

    @Override
    float[] doStep(float[] v, int i, float[] x) {
        // prev_sample = sample + (sigma_next - sigma) * model_output, float32 tensors
        float dt = sigmas[i + 1] - sigmas[i];
        float[] prev = new float[x.length];
        for (int j = 0; j < x.length; j++) {
            prev[j] = x[j] + dt * v[j];
        }
        return prev;
    }

    /** x0 = x - sigma v: the clean latent that the velocity {@code v = noise - x0} implies. */
    @Override
    float[] predictX0(float[] v, int i, float[] x) {
        float sigma = sigmas[i];
        float[] x0 = new float[x.length];
        for (int j = 0; j < x.length; j++) {
            x0[j] = x[j] - sigma * v[j];
        }
        return x0;
    }
}
