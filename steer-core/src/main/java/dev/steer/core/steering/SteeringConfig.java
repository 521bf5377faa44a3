package dev.steer.core.steering;

/**
 * The settings of Learn-to-Steer's gradient refinement, with the reference defaults for Stable
 * Diffusion: steer the first half of the schedule (steps 0..24 of 50), up to 15 refinement
 * iterations per steered step, per-step loss targets 1e-5, 3e-5, 5e-5 then 7e-5, plain gradient
 * steps of size 5 (the reference uses 5 for SD 2.1 and 7.5 for SD 1.4).
 *
 * @param startFraction first steered step as a fraction of the schedule (inclusive)
 * @param endFraction end of the steered steps as a fraction of the schedule (exclusive)
 * @param maxIterations refinement iterations per steered step
 * @param lossTargets loss at or below which refinement of step i stops (the last value applies to later steps)
 * @param stepSize alpha of z <- z - alpha * grad
 * @param finalEvaluation evaluate the loss once more after the last update (for telemetry; costs one model call)
 */
public record SteeringConfig(double startFraction, double endFraction, int maxIterations, double[] lossTargets,
        float stepSize, boolean finalEvaluation) {

    /** The reference defaults. */
    public static final SteeringConfig DEFAULTS =
            new SteeringConfig(0.0, 0.5, 15, new double[] {1e-5, 3e-5, 5e-5, 7e-5}, 5f, true);

    /** Validates ranges. */
    public SteeringConfig {
        if (!(startFraction >= 0 && startFraction <= endFraction && endFraction <= 1)) {
            throw new IllegalArgumentException("need 0 <= startFraction <= endFraction <= 1, got " + startFraction + ", " + endFraction);
        }
        if (maxIterations < 1) {
            throw new IllegalArgumentException("maxIterations must be at least 1, got " + maxIterations);
        }
        if (lossTargets == null || lossTargets.length == 0) {
            throw new IllegalArgumentException("at least one loss target is needed");
        }
        lossTargets = lossTargets.clone();
        if (!(stepSize > 0) || Float.isInfinite(stepSize)) {
            throw new IllegalArgumentException("step size must be a positive finite number, got " + stepSize);
        }
    }

    /** Whether step {@code stepIndex} of {@code totalSteps} is in the steered range. */
    public boolean isSteered(int stepIndex, int totalSteps) {
        double f = (double) stepIndex / totalSteps;
        return f >= startFraction - 1e-12 && f < endFraction - 1e-12;
    }

    /** The loss target of a step (by its index among all steps). */
    public double lossTarget(int stepIndex) {
        return lossTargets[Math.min(stepIndex, lossTargets.length - 1)];
    }

    /** A copy with another step size. */
    public SteeringConfig withStepSize(float alpha) {
        return new SteeringConfig(startFraction, endFraction, maxIterations, lossTargets, alpha, finalEvaluation);
    }

    /** A copy with another iteration budget. */
    public SteeringConfig withMaxIterations(int iterations) {
        return new SteeringConfig(startFraction, endFraction, iterations, lossTargets, stepSize, finalEvaluation);
    }

    /** A copy steering another range of the schedule. */
    public SteeringConfig withRange(double start, double end) {
        return new SteeringConfig(start, end, maxIterations, lossTargets, stepSize, finalEvaluation);
    }

    /** A copy with other loss targets. */
    public SteeringConfig withLossTargets(double... targets) {
        return new SteeringConfig(startFraction, endFraction, maxIterations, targets, stepSize, finalEvaluation);
    }

    /** A copy with or without the final telemetry evaluation. */
    public SteeringConfig withFinalEvaluation(boolean evaluate) {
        return new SteeringConfig(startFraction, endFraction, maxIterations, lossTargets, stepSize, evaluate);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SteeringConfig c && c.toString().equals(toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        return "SteeringConfig[steps " + startFraction + ".." + endFraction + " of the schedule, " + maxIterations
                + " iterations, targets " + java.util.Arrays.toString(lossTargets) + ", step size " + stepSize
                + (finalEvaluation ? ", final evaluation" : "") + "]";
    }
}
