package dev.steer.core.steering;

import dev.steer.core.model.ConfigJson;
import dev.steer.core.model.ModelConfigException;
import java.nio.file.Files;
import java.nio.file.Path;

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
 * @param stepSize alpha of {@code z <- z - alpha * grad}
 * @param finalEvaluation evaluate the loss once more after the last update (for telemetry; costs one model call)
 */
public record SteeringConfig(double startFraction, double endFraction, int maxIterations, double[] lossTargets,
        float stepSize, boolean finalEvaluation) {

    /** The reference defaults. */
    public static final SteeringConfig DEFAULTS =
            new SteeringConfig(0.0, 0.5, 15, new double[] {1e-5, 3e-5, 5e-5, 7e-5}, 5f, true);

    /** The file beside a classifier checkpoint that holds the steering settings it was tuned with. */
    public static final String RECOMMENDED_FILE = "steering.json";

    /**
     * The settings a classifier was tuned with: {@link #DEFAULTS} overridden by the keys of a
     * {@value #RECOMMENDED_FILE} beside the checkpoint ({@code step_size}, {@code max_iterations},
     * {@code start_fraction}, {@code end_fraction}); {@link #DEFAULTS} when there is none. The
     * reference's step size is per model (5 for SD 2.1, 7.5 for SD 1.4), and a small model's latent
     * can need a much smaller one, so a classifier shipped for a model should say which.
     *
     * @param classifier the checkpoint file or the folder holding it
     * @throws ModelConfigException when the classifier path does not exist, or the file is not valid
     *     JSON or holds an invalid setting or an unknown key
     */
    public static SteeringConfig recommendedFor(Path classifier) {
        return recommendedFor(classifier, DEFAULTS);
    }

    /**
     * Like {@link #recommendedFor(Path)} with another base than {@link #DEFAULTS}: the model family's
     * own settings (FLUX.1 [schnell] steers its first step only), which the file's keys override.
     */
    public static SteeringConfig recommendedFor(Path classifier, SteeringConfig base) {
        if (!Files.exists(classifier)) {
            throw new ModelConfigException(classifier, "no such relation classifier (file or folder) to read "
                    + RECOMMENDED_FILE + " beside");
        }
        Path dir = Files.isDirectory(classifier) ? classifier : classifier.toAbsolutePath().getParent();
        Path file = dir == null ? null : dir.resolve(RECOMMENDED_FILE);
        if (file == null || !Files.isRegularFile(file)) {
            return base;
        }
        ConfigJson json = ConfigJson.read(file);
        json.refuseUnknownKeys("steering setting", "step_size", "max_iterations", "start_fraction", "end_fraction", "comment");
        try {
            return base.withStepSize(json.getFloat("step_size", base.stepSize()))
                    .withMaxIterations(json.getInt("max_iterations", base.maxIterations()))
                    .withRange(json.getFloat("start_fraction", (float) base.startFraction()),
                            json.getFloat("end_fraction", (float) base.endFraction()));
        } catch (IllegalArgumentException e) {
            throw new ModelConfigException(file, e.getMessage());
        }
    }

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
