package dev.steer.core.steering;

/**
 * What steering did at one denoising step.
 *
 * @param stepIndex the denoising step (0 = first)
 * @param lossBefore loss before the first refinement
 * @param lossAfter loss after the last accepted refinement
 * @param iterations refinement iterations run
 * @param probabilities the classifier's class probabilities after the last accepted refinement
 * @param nanos time spent on this step's refinements
 * @param abandoned non-null when steering of this step stopped early because the loss or gradient
 *     was not finite (the offending update was undone); says which
 */
public record SteeringStepReport(int stepIndex, float lossBefore, float lossAfter, int iterations,
        float[] probabilities, long nanos, String abandoned) {
}
