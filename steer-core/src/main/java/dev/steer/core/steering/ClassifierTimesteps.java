package dev.steer.core.steering;

/**
 * Maps an inference step to the timestep index the classifier embeds, as the published steering code
 * does: through the classifier's training timesteps ({@code training_config.timesteps}), taking the first
 * one at or above the step.
 *
 * <p>The published SD 2.1 and FLUX.1-dev classifiers embed 50 indices and were trained at
 * {5, 10, 15, 20, 25, 49} ({@link #TRAINED}: {@code <=5 -> 5, 6..10 -> 10, ..., 21..25 -> 25, >25 -> 49}); the
 * FLUX.1-schnell classifier embeds 4 and was trained at {1, 3}. When the schedule has as many steps as
 * the classifier has indices the step is used as it is; otherwise it is first scaled to
 * {@code numTimesteps} ({@code round(step * numTimesteps / totalSteps)}), so the mapping follows the
 * fraction of the schedule rather than the raw index. A step beyond the last training timestep maps to
 * the last.
 */
public final class ClassifierTimesteps {
    /** The step indices the published SD (and FLUX.1-dev) classifiers were trained at, of 50. */
    public static final int[] TRAINED = {5, 10, 15, 20, 25, 49};
    /** The number of timestep indices the published SD (and FLUX.1-dev) classifiers embed. */
    public static final int SD_TIMESTEPS = 50;

    private ClassifierTimesteps() {
    }

    /**
     * The classifier timestep index for step {@code stepIndex} of {@code totalSteps} with the published SD
     * classifier's training timesteps: {@code indexFor(stepIndex, totalSteps, TRAINED, 50)}.
     */
    public static int indexFor(int stepIndex, int totalSteps) {
        return indexFor(stepIndex, totalSteps, TRAINED, SD_TIMESTEPS);
    }

    /**
     * The classifier timestep index for step {@code stepIndex} of {@code totalSteps}, for a classifier that
     * embeds {@code numTimesteps} indices and was trained at {@code trained}.
     *
     * @param trained the training timesteps, strictly increasing, each in [0, numTimesteps)
     * @throws IllegalArgumentException if the step is not in [0, totalSteps) or {@code trained} is empty,
     *                                  unordered or out of range
     */
    public static int indexFor(int stepIndex, int totalSteps, int[] trained, int numTimesteps) {
        if (totalSteps < 1 || stepIndex < 0 || stepIndex >= totalSteps) {
            throw new IllegalArgumentException("step " + stepIndex + " is not in a schedule of " + totalSteps);
        }
        if (numTimesteps < 1) {
            throw new IllegalArgumentException("numTimesteps must be positive, got " + numTimesteps);
        }
        if (trained == null || trained.length == 0) {
            throw new IllegalArgumentException("the classifier has no training timesteps");
        }
        for (int i = 0; i < trained.length; i++) {
            if (trained[i] < 0 || trained[i] >= numTimesteps || (i > 0 && trained[i] <= trained[i - 1])) {
                throw new IllegalArgumentException("training timesteps " + java.util.Arrays.toString(trained)
                        + " must be strictly increasing indices in [0, " + numTimesteps + ")");
            }
        }
        int scaled = totalSteps == numTimesteps ? stepIndex : (int) Math.round(stepIndex * (double) numTimesteps / totalSteps);
        for (int t : trained) {
            if (scaled <= t) {
                return t;
            }
        }
        return trained[trained.length - 1];
    }
}
