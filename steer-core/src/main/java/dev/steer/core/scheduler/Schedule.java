package dev.steer.core.scheduler;

/**
 * One generation's run through a {@link Scheduler}: the timesteps and the stateful stepping (multistep
 * samplers remember earlier model outputs, as diffusers' scheduler objects do).
 *
 * <p>Usage, for {@code i} from 0 to {@code size() - 1}: feed the model
 * {@code scaleModelInput(x, i)} at timestep {@code timesteps()[i]}, then
 * {@code x = step(modelOutput, i, x)}. The initial latent is unit Gaussian noise times
 * {@link #initNoiseSigma()}. Steps must be taken in order, each once; {@link #scaleModelInput} may be
 * called any number of times for the current step (e.g. while steering re-runs the model).
 * Out-of-order calls throw {@link IllegalStateException}. Not thread-safe.
 */
public interface Schedule {
    /**
     * The integer timesteps, highest first. For Euler schedules whose spacing yields fractional
     * timesteps these are {@link #modelTimesteps()} rounded half to even. A fresh copy.
     */
    int[] timesteps();

    /**
     * The timesteps exactly as diffusers passes them to the model (float32). They equal
     * {@link #timesteps()} except for Euler with fractional spacing (e.g. linspace with 50 steps).
     * A fresh copy.
     */
    float[] modelTimesteps();

    /** Number of steps (the length of {@link #timesteps()}). */
    int size();

    /** Index of the next step to take: 0 before the first step, {@link #size()} when done. */
    int stepIndex();

    /** Standard deviation of the initial noise (1 except for Euler). */
    float initNoiseSigma();

    /**
     * The model input for step {@code stepIndex} (diffusers' {@code scale_model_input}): a new array,
     * or {@code sample} itself for samplers that do not scale.
     *
     * @throws IllegalStateException if {@code stepIndex} is not the current step
     */
    float[] scaleModelInput(float[] sample, int stepIndex);

    /**
     * Takes step {@code stepIndex}: returns the next latent (a new array) and advances to the next step.
     *
     * @param modelOutput the model's prediction (epsilon or v, per {@code prediction_type}) for the
     *                    input {@code scaleModelInput(sample, stepIndex)}
     * @param sample      the current latent (unscaled)
     * @throws IllegalStateException    if {@code stepIndex} is not the current step
     * @throws IllegalArgumentException if the arrays' lengths differ
     */
    float[] step(float[] modelOutput, int stepIndex, float[] sample);

    /**
     * The model's estimate of the clean latent x0 at step {@code stepIndex} (the
     * {@code pred_original_sample} of diffusers' DDIM and Euler, the data prediction of DPM-Solver++;
     * for PNDM the DDIM formula at that timestep). Does not change the state, so it may be called for
     * any step.
     *
     * @throws IndexOutOfBoundsException if {@code stepIndex} is not in [0, size())
     */
    float[] predictOriginalSample(float[] modelOutput, int stepIndex, float[] sample);
}
