package dev.steer.core.scheduler;

/**
 * A diffusion sampler configured from a diffusers {@code scheduler_config.json}: the training noise
 * schedule plus the rule that turns model outputs into the next latent.
 *
 * <p>Implementations are immutable and thread-safe; each generation takes its own stateful
 * {@link Schedule} from {@link #schedule(int)}. Latents are flat {@code float[]} arrays (any layout:
 * every operation is elementwise), and the arithmetic reproduces diffusers' float32/float64 choices so
 * trajectories match diffusers to float32 rounding.
 */
public interface Scheduler {
    /** Which sampler this is. */
    SchedulerType type();

    /** The configuration it was built from. */
    SchedulerConfig config();

    /**
     * The training schedule's cumulative products of {@code 1 - beta}, one per training timestep
     * (float32 values, as diffusers holds them, widened to double). A fresh copy.
     */
    double[] alphasCumprod();

    /**
     * Starts a generation of {@code numInferenceSteps} steps (diffusers' {@code set_timesteps}). PNDM in
     * PLMS mode yields one more step than asked for, as in diffusers.
     *
     * @throws IllegalArgumentException if {@code numInferenceSteps} is not in [1, num_train_timesteps]
     */
    Schedule schedule(int numInferenceSteps);

    /**
     * Starts a generation for an image of {@code imageSequenceLength} denoiser tokens: samplers whose
     * schedule depends on the resolution (flow matching with dynamic shifting) use it, the others
     * ignore it.
     */
    default Schedule schedule(int numInferenceSteps, int imageSequenceLength) {
        return schedule(numInferenceSteps);
    }
}
