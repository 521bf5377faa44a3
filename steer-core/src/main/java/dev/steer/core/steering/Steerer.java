package dev.steer.core.steering;

/**
 * Decides which denoising steps are steered and refines the latent at those steps with a
 * {@link SteeringObjective}, before the ordinary guided step runs on the result. The sampler calls
 * it; the algorithm (iterations, loss targets, step sizes, cycling through several relations,
 * undoing non-finite updates) lives behind this contract, independent of the backend.
 */
public interface Steerer {

    /** Whether step {@code stepIndex} of {@code totalSteps} is steered. */
    boolean isSteered(int stepIndex, int totalSteps);

    /**
     * Refines {@code latent} in place.
     *
     * @return what was done, for telemetry and the generation's summary
     */
    SteeringStepReport refine(SteeringObjective objective, int stepIndex, int totalSteps, float[] latent);
}
