package dev.steer.core.steering;

import dev.steer.core.model.ConfigJson;
import dev.steer.core.model.ModelConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
 * @param margin stop refining a step once the classifier's probability of the asked relation exceeds
 *     every other class's by at least this much (0: off, only the loss targets stop a step)
 * @param normalizedSteps take steps of {@code alpha * grad / rms(grad)} (the step size is then the
 *     root-mean-square change per latent value) instead of {@code alpha * grad}
 * @param backtracking when an update raised the loss, undo it and halve the step size for the rest
 *     of the step (the evaluation that showed it counts as an iteration)
 * @param noiseCandidates initial noises to choose among by the classifier's loss (1: the seed's
 *     noise, no choice); candidate 0 is always the seed's noise
 * @param selectionStep the step at which the candidates are compared: each is denoised (without
 *     steering) up to it, the classifier reads each at it, and generation continues from the chosen
 *     one (0: compared on the noise itself, at the first step)
 * @param separateWords among candidates on which every asked relation already leads by the
 *     margin, choose the one whose two words' attention maps overlap least (a drawn pair rather than
 *     two words on one object); otherwise, and when none does, the lowest loss
 */
public record SteeringConfig(double startFraction, double endFraction, int maxIterations, double[] lossTargets,
        float stepSize, boolean finalEvaluation, double margin, boolean normalizedSteps, boolean backtracking,
        int noiseCandidates, int selectionStep, boolean separateWords) {

    /**
     * The published Learn-to-Steer settings for Stable Diffusion: first half of the schedule, 15
     * iterations, loss targets 1e-5..7e-5, plain steps of 5, every step run to its budget.
     */
    public static final SteeringConfig REFERENCE =
            new SteeringConfig(0.0, 0.5, 15, new double[] {1e-5, 3e-5, 5e-5, 7e-5}, 5f, true, 0, false, false, 1, 0, false);

    /** The settings used where neither the classifier nor the model family says otherwise: {@link #REFERENCE}. */
    public static final SteeringConfig DEFAULTS = REFERENCE;

    /** The file beside a classifier checkpoint that holds the steering settings it was tuned with. */
    public static final String RECOMMENDED_FILE = "steering.json";

    /**
     * The settings a classifier was tuned with: {@link #DEFAULTS} overridden by the keys of a
     * {@value #RECOMMENDED_FILE} beside the checkpoint ({@code step_size}, {@code max_iterations},
     * {@code start_fraction}, {@code end_fraction}, {@code margin}, {@code normalized_steps},
     * {@code backtracking}, {@code noise_candidates}, {@code selection_step}, {@code separate_words}, {@code final_evaluation}); {@link #DEFAULTS}
     * when there is none. The
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
     * A backend's own section is not applied; see {@link #recommendedFor(Path, SteeringConfig, String)}.
     */
    public static SteeringConfig recommendedFor(Path classifier, SteeringConfig base) {
        return recommendedFor(classifier, base, null);
    }

    /**
     * The settings a classifier was tuned with on one backend: {@code base} overridden by the file's
     * top-level keys, then by the keys of the file's section named after the backend ({@code
     * "onnx": {...}} or {@code "pytorch": {...}}), if it has one. A backend whose gradient is only
     * estimated usually needs its own step size and budget: the section holds the same keys as the
     * top level and, for {@code onnx}, the gradient estimator's ({@link #ESTIMATOR_KEYS}, read by
     * that backend, ignored here).
     *
     * @param backend the backend's name ({@code dev.steer.core.engine.SamplerProvider#name}), or null
     *     to apply no section
     */
    public static SteeringConfig recommendedFor(Path classifier, SteeringConfig base, String backend) {
        ConfigJson json = recommendedFile(classifier);
        if (json == null) {
            return base;
        }
        List<String> top = new ArrayList<>(KEYS);
        top.addAll(BACKEND_SECTIONS);
        json.refuseUnknownKeys("steering setting", top.toArray(String[]::new));
        SteeringConfig config = apply(json, base);
        for (String section : BACKEND_SECTIONS) {
            if (json.has(section)) {
                ConfigJson part = json.object(section);
                List<String> known = new ArrayList<>(KEYS);
                if (section.equals("onnx")) {
                    known.addAll(ESTIMATOR_KEYS);
                }
                part.refuseUnknownKeys("steering setting of the " + section + " backend", known.toArray(String[]::new));
                if (section.equals(backend)) {
                    config = apply(part, config);
                }
            }
        }
        return config;
    }

    /**
     * The {@value #RECOMMENDED_FILE} beside a classifier (checkpoint file or folder), or null when
     * there is none.
     *
     * @throws ModelConfigException when the classifier path does not exist or the file is not valid JSON
     */
    public static ConfigJson recommendedFile(Path classifier) {
        if (!Files.exists(classifier)) {
            throw new ModelConfigException(classifier, "no such relation classifier (file or folder) to read "
                    + RECOMMENDED_FILE + " beside");
        }
        Path dir = Files.isDirectory(classifier) ? classifier : classifier.toAbsolutePath().getParent();
        Path file = dir == null ? null : dir.resolve(RECOMMENDED_FILE);
        if (file == null || !Files.isRegularFile(file)) {
            return null;
        }
        return ConfigJson.read(file);
    }

    /** The keys of {@value #RECOMMENDED_FILE} (at the top level and in a backend's section). */
    public static final List<String> KEYS = List.of("step_size", "max_iterations", "start_fraction", "end_fraction", "margin",
            "normalized_steps", "backtracking", "noise_candidates", "selection_step", "separate_words", "final_evaluation", "comment");

    /** The backends that may have a section of their own in {@value #RECOMMENDED_FILE}. */
    public static final List<String> BACKEND_SECTIONS = List.of("pytorch", "onnx");

    /**
     * The ONNX backend's gradient-estimator keys in its section: {@code gradient_budget} (directions
     * per evaluation), {@code gradient_grid} (0: directions over the whole latent, g: over a g x g
     * grid per channel), {@code gradient_directions} ({@code orthogonal} or {@code gaussian}),
     * {@code gradient_relative_step} (the perturbation relative to the latent).
     */
    public static final List<String> ESTIMATOR_KEYS = List.of("gradient_budget", "gradient_grid", "gradient_directions",
            "gradient_relative_step");

    private static SteeringConfig apply(ConfigJson json, SteeringConfig base) {
        try {
            return base.withStepSize(json.getFloat("step_size", base.stepSize()))
                    .withMaxIterations(json.getInt("max_iterations", base.maxIterations()))
                    .withRange(json.getFloat("start_fraction", (float) base.startFraction()),
                            json.getFloat("end_fraction", (float) base.endFraction()))
                    .withMargin(json.getDouble("margin", base.margin()))
                    .withNormalizedSteps(json.getBool("normalized_steps", base.normalizedSteps()))
                    .withBacktracking(json.getBool("backtracking", base.backtracking()))
                    .withNoiseCandidates(json.getInt("noise_candidates", base.noiseCandidates()))
                    .withSelectionStep(json.getInt("selection_step", base.selectionStep()))
                    .withSeparateWords(json.getBool("separate_words", base.separateWords()))
                    .withFinalEvaluation(json.getBool("final_evaluation", base.finalEvaluation()));
        } catch (IllegalArgumentException e) {
            throw new ModelConfigException(json.file(), e.getMessage());
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
        if (!(margin >= 0 && margin < 1)) {
            throw new IllegalArgumentException("margin must be in [0, 1), got " + margin);
        }
        if (noiseCandidates < 1 || noiseCandidates > MAX_NOISE_CANDIDATES) {
            throw new IllegalArgumentException("noise candidates must be 1 to " + MAX_NOISE_CANDIDATES + ", got " + noiseCandidates);
        }
        if (selectionStep < 0) {
            throw new IllegalArgumentException("the selection step must be non-negative, got " + selectionStep);
        }
    }

    /** The most initial noises one generation may choose among. */
    public static final int MAX_NOISE_CANDIDATES = 64;

    /**
     * Whether an evaluation is good enough to stop refining: its loss is at or below the step's
     * target, or the asked class leads every other by at least {@link #margin()}.
     *
     * @param stepIndex the step (for its loss target)
     * @param loss the evaluation's loss
     * @param probabilities the classifier's class probabilities
     * @param askedClass the index of the asked relation among them
     */
    public boolean isSatisfied(int stepIndex, float loss, float[] probabilities, int askedClass) {
        if (loss <= lossTarget(stepIndex)) {
            return true;
        }
        if (margin <= 0 || askedClass < 0 || askedClass >= probabilities.length) {
            return false;
        }
        float runnerUp = 0f;
        for (int c = 0; c < probabilities.length; c++) {
            if (c != askedClass) {
                runnerUp = Math.max(runnerUp, probabilities[c]);
            }
        }
        return probabilities[askedClass] - runnerUp >= margin;
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
        return new SteeringConfig(startFraction, endFraction, maxIterations, lossTargets, alpha, finalEvaluation, margin,
                normalizedSteps, backtracking, noiseCandidates, selectionStep, separateWords);
    }

    /** A copy with another iteration budget. */
    public SteeringConfig withMaxIterations(int iterations) {
        return new SteeringConfig(startFraction, endFraction, iterations, lossTargets, stepSize, finalEvaluation, margin,
                normalizedSteps, backtracking, noiseCandidates, selectionStep, separateWords);
    }

    /** A copy steering another range of the schedule. */
    public SteeringConfig withRange(double start, double end) {
        return new SteeringConfig(start, end, maxIterations, lossTargets, stepSize, finalEvaluation, margin, normalizedSteps,
                backtracking, noiseCandidates, selectionStep, separateWords);
    }

    /** A copy with other loss targets. */
    public SteeringConfig withLossTargets(double... targets) {
        return new SteeringConfig(startFraction, endFraction, maxIterations, targets, stepSize, finalEvaluation, margin,
                normalizedSteps, backtracking, noiseCandidates, selectionStep, separateWords);
    }

    /** A copy with or without the final telemetry evaluation. */
    public SteeringConfig withFinalEvaluation(boolean evaluate) {
        return new SteeringConfig(startFraction, endFraction, maxIterations, lossTargets, stepSize, evaluate, margin,
                normalizedSteps, backtracking, noiseCandidates, selectionStep, separateWords);
    }

    /** A copy stopping a step at another margin of the asked class (0: off). */
    public SteeringConfig withMargin(double m) {
        return new SteeringConfig(startFraction, endFraction, maxIterations, lossTargets, stepSize, finalEvaluation, m,
                normalizedSteps, backtracking, noiseCandidates, selectionStep, separateWords);
    }

    /** A copy with normalised (or plain) gradient steps. */
    public SteeringConfig withNormalizedSteps(boolean normalized) {
        return new SteeringConfig(startFraction, endFraction, maxIterations, lossTargets, stepSize, finalEvaluation, margin,
                normalized, backtracking, noiseCandidates, selectionStep, separateWords);
    }

    /** A copy with or without backtracking. */
    public SteeringConfig withBacktracking(boolean backtrack) {
        return new SteeringConfig(startFraction, endFraction, maxIterations, lossTargets, stepSize, finalEvaluation, margin,
                normalizedSteps, backtrack, noiseCandidates, selectionStep, separateWords);
    }

    /** A copy that does (or does not) prefer, among candidates that already hold, the one whose words' maps overlap least. */
    public SteeringConfig withSeparateWords(boolean prefer) {
        return new SteeringConfig(startFraction, endFraction, maxIterations, lossTargets, stepSize, finalEvaluation, margin,
                normalizedSteps, backtracking, noiseCandidates, selectionStep, prefer);
    }

    /** A copy comparing the noise candidates at another step. */
    public SteeringConfig withSelectionStep(int step) {
        return new SteeringConfig(startFraction, endFraction, maxIterations, lossTargets, stepSize, finalEvaluation, margin,
                normalizedSteps, backtracking, noiseCandidates, step, separateWords);
    }

    /** A copy choosing among another number of initial noises. */
    public SteeringConfig withNoiseCandidates(int candidates) {
        return new SteeringConfig(startFraction, endFraction, maxIterations, lossTargets, stepSize, finalEvaluation, margin,
                normalizedSteps, backtracking, candidates, selectionStep, separateWords);
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
                + (margin > 0 ? ", margin " + margin : "") + (normalizedSteps ? ", normalised steps" : "")
                + (backtracking ? ", backtracking" : "") + (noiseCandidates > 1 ? ", " + noiseCandidates + " noise candidates compared at step " + selectionStep
                        + (separateWords ? " preferring separate words" : "") : "")
                + (finalEvaluation ? ", final evaluation" : "") + "]";
    }
}
