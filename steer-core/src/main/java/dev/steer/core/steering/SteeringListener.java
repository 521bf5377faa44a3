package dev.steer.core.steering;

/** Receives telemetry as steering happens: one report per steered step. */
@FunctionalInterface
public interface SteeringListener {
    /** Called after a steered step's refinement. */
    void onSteeredStep(SteeringStepReport report);
}
