package dev.steer.core.engine;

import dev.steer.core.scheduler.Schedule;
import java.util.List;

/**
 * Looks inside chosen denoising steps: asks for an attention probe on the conditional branch of the
 * step's denoiser call and receives the step's input latent, guided prediction and the probe's maps
 * before the scheduler step. The steering pictures and the relation-dataset builder use it.
 */
public interface StepObserver {

    /** The words (token positions, subject first) to probe at this step, or null to skip the step. */
    List<int[]> probeWords(int step);

    /**
     * Called after the guided prediction of an observed step.
     *
     * @param latents the latent the denoiser saw (before the scheduler step)
     * @param guidedPrediction the guided model output
     * @param maps the probe's classifier input [words, maps, 16, 16], flattened
     */
    void onStep(int step, float[] latents, float[] guidedPrediction, float[] maps, Schedule schedule);
}
