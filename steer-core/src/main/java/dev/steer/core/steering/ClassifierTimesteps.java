package dev.steer.core.steering;

/**
 * Maps an inference step to the timestep index the classifier embeds. The published classifiers
 * were trained at step indices {5, 10, 15, 20, 25, 49} of a 50-step schedule; a step maps to the
 * nearest trained index at or above it (<=5 -> 5, 6..10 -> 10, ..., 21..25 -> 25, >25 -> 49).
 * Other step counts are first scaled to the 50-step schedule, so the mapping follows the fraction
 * of the schedule rather than the raw index.
 */
public final class ClassifierTimesteps {
    /** The step indices the published classifiers were trained at. */
    public static final int[] TRAINED = {5, 10, 15, 20, 25, 49};

    private ClassifierTimesteps() {
    }

    /** The classifier timestep index for step {@code stepIndex} of {@code totalSteps}. */
    public static int indexFor(int stepIndex, int totalSteps) {
        if (totalSteps < 1 || stepIndex < 0 || stepIndex >= totalSteps) {
            throw new IllegalArgumentException("step " + stepIndex + " is not in a schedule of " + totalSteps);
        }
        int at50 = totalSteps == 50 ? stepIndex : (int) Math.round(stepIndex * 50.0 / totalSteps);
        for (int t : TRAINED) {
            if (at50 <= t) {
                return t;
            }
        }
        return TRAINED[TRAINED.length - 1];
    }
}
