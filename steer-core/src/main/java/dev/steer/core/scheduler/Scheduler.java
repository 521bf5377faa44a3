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
     *
     * <p>Only the samplers of a discrete variance-preserving (DDPM) schedule have them: DDIM, Euler,
     * DPM-Solver++ and PNDM. Flow matching ({@link SchedulerType#FLOW_MATCH_EULER}) interpolates
     * linearly between data and noise and has no betas; check {@link SchedulerType#hasAlphasCumprod()}
     * before calling this on a scheduler of unknown type.
     *
     * @throws UnsupportedOperationException for flow-matching schedulers
     */
    double[] alphasCumprod();

    /**
     * Starts a generation of {@code numInferenceSteps} steps (diffusers' {@code set_timesteps}). PNDM in
     * PLMS mode yields one more step than asked for, as in diffusers.
     *
     * @throws IllegalArgumentException if {@code numInferenceSteps} is not in [1, num_train_timesteps]
     * @throws IllegalStateException    if the schedule depends on the image size (flow matching with
     *                                  {@code use_dynamic_shifting}, as FLUX.1-dev): call
     *                                  {@link #schedule(int, int)} instead
     */
    Schedule schedule(int numInferenceSteps);

    /**
     * Starts a generation of {@code numInferenceSteps} steps for latents of {@code imageSequenceLength}
     * tokens (FLUX: packed 2x2 latent patches, {@code (height / 16) * (width / 16)} for an image of
     * height x width pixels). Flow matching with dynamic shifting shifts its sigmas by
     * mu = calculate_shift(imageSequenceLength), as FluxPipeline does; every other sampler ignores the
     * length and returns {@link #schedule(int)}.
     *
     * @throws IllegalArgumentException if {@code numInferenceSteps} is out of range, or
     *                                  {@code imageSequenceLength} is not positive
     */
    default Schedule schedule(int numInferenceSteps, int imageSequenceLength) {
        if (imageSequenceLength < 1) {
            throw new IllegalArgumentException("imageSequenceLength must be positive, got " + imageSequenceLength);
        }
        return schedule(numInferenceSteps);
    }
}
