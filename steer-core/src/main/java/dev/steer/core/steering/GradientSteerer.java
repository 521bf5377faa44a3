package dev.steer.core.steering;

import dev.steer.core.relation.RelationTriplet;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learn-to-Steer's refinement: at each steered step, up to {@code maxIterations} times, evaluate
 * the classifier loss for one triplet (cycling through the prompt's triplets); a triplet whose loss
 * is at or below the step's target, or whose asked relation leads by the configured margin, is
 * satisfied and left alone; otherwise take a gradient step {@code z <- z - alpha * grad} (or a
 * normalised one). The step ends when the current latent satisfies every triplet. With
 * backtracking, an update that raised the next evaluation's loss is taken back and retried at half
 * the step size along the same gradient, at no extra model call. An objective whose gradient costs
 * far more than its loss ({@link SteeringObjective#readsLossBeforeGradient}, the forward-only
 * estimate) is asked for the loss alone at each check and for the gradient only before an update,
 * at the same latent: the same updates, without paying for gradients that are thrown away.
 *
 * <p>A non-finite loss, gradient or updated latent never reaches the image: the update that led to
 * it (or the update itself, when it overflows the latent) is undone, steering of that step stops,
 * and the report says why. This holds with or without the final evaluation. The same algorithm serves both backends;
 * only the {@link SteeringObjective} (exact or estimated gradient) differs.
 */
public final class GradientSteerer implements Steerer {
    private static final Logger LOG = LoggerFactory.getLogger(GradientSteerer.class);

    private final SteeringConfig config;
    private final List<RelationTriplet> triplets;
    private final SteeringListener listener;
    private final List<String> classNames;

    /**
     * A steerer whose reports name no classes.
     *
     * @param config iterations, targets, step size, steered range
     * @param triplets the relations to enforce (at least one)
     * @param listener receives each step's report; may be null
     */
    public GradientSteerer(SteeringConfig config, List<RelationTriplet> triplets, SteeringListener listener) {
        this(config, triplets, listener, List.of());
    }

    /**
     * @param config iterations, targets, step size, steered range
     * @param triplets the relations to enforce (at least one)
     * @param listener receives each step's report; may be null
     * @param classNames the classifier's class names, for readable reports
     */
    public GradientSteerer(SteeringConfig config, List<RelationTriplet> triplets, SteeringListener listener, List<String> classNames) {
        if (triplets.isEmpty()) {
            throw new IllegalArgumentException("steering needs at least one (subject, relation, object) triplet");
        }
        this.config = config;
        this.triplets = List.copyOf(triplets);
        this.listener = listener;
        this.classNames = List.copyOf(classNames);
    }

    /** The settings. */
    public SteeringConfig config() {
        return config;
    }

    /** The triplets, in cycling order. */
    public List<RelationTriplet> triplets() {
        return triplets;
    }

    @Override
    public boolean isSteered(int stepIndex, int totalSteps) {
        return config.isSteered(stepIndex, totalSteps);
    }

    @Override
    public SteeringStepReport refine(SteeringObjective objective, int stepIndex, int totalSteps, float[] latent) {
        long t0 = System.nanoTime();
        int count = triplets.size();
        float alpha = config.stepSize();
        float[] previous = null;
        float[] lastGradient = null;
        float lossBefore = Float.NaN;
        float lossAfter = Float.NaN;
        float[] probabilities = null;
        String abandoned = null;
        int iterations = 0;
        boolean converged = false;
        // which triplets the current latent satisfies (an update clears them) and each one's loss before the last update
        boolean[] satisfied = new boolean[count];
        float[] lossBeforeUpdate = new float[count];
        java.util.Arrays.fill(lossBeforeUpdate, Float.NaN);
        int updatedAt = -1;
        for (int it = 0; it < config.maxIterations(); it++) {
            int k = it % count;
            RelationTriplet triplet = triplets.get(k);
            boolean lossFirst = objective.readsLossBeforeGradient();
            SteeringObjective.Evaluation e = lossFirst ? objective.lossOnly(latent, triplet) : objective.evaluate(latent, triplet);
            String bad = nonFinite(e);
            if (bad != null) {
                abandoned = undo(bad, it, previous, latent);
                break;
            }
            if (it == 0) {
                lossBefore = e.loss();
            }
            if (config.backtracking() && updatedAt == it - 1 && e.loss() > lossBeforeUpdate[k]) {
                // the last update made this triplet worse: take it back and retry with half the step along the same gradient
                System.arraycopy(previous, 0, latent, 0, latent.length);
                alpha /= 2;
                iterations--;
                if (!step(latent, previous, lastGradient, alpha)) {
                    abandoned = "the update at iteration " + it + " made the latent non-finite (overflow): it was undone";
                    break;
                }
                iterations++;
                updatedAt = it;
                java.util.Arrays.fill(satisfied, false);
                continue;
            }
            lossAfter = e.loss();
            probabilities = e.probabilities();
            if (config.isSatisfied(stepIndex, e.loss(), e.probabilities(), classIndex(triplet))) {
                satisfied[k] = true;
                if (allTrue(satisfied)) {
                    converged = true;
                    break;
                }
                continue;
            }
            if (lossFirst) { // the step will move the latent: now the gradient, at the same latent
                e = objective.evaluate(latent, triplet);
                bad = nonFinite(e);
                if (bad != null) {
                    abandoned = undo(bad, it, previous, latent);
                    break;
                }
            }
            if (previous == null) {
                previous = new float[latent.length];
            }
            lossBeforeUpdate[k] = e.loss();
            lastGradient = e.gradient();
            if (!step(latent, previous, lastGradient, alpha)) {
                abandoned = "the update at iteration " + it + " made the latent non-finite (overflow): it was undone";
                break;
            }
            java.util.Arrays.fill(satisfied, false);
            updatedAt = it;
            iterations++;
        }
        if (abandoned == null && !converged && iterations > 0 && config.finalEvaluation()) {
            SteeringObjective.Evaluation e = objective.lossOnly(latent, triplets.get(config.maxIterations() % count));
            String bad = nonFinite(e);
            if (bad != null) {
                System.arraycopy(previous, 0, latent, 0, latent.length);
                abandoned = bad + " after the last update: it was undone";
            } else {
                lossAfter = e.loss();
                probabilities = e.probabilities();
            }
        }
        SteeringStepReport report = new SteeringStepReport(stepIndex, lossBefore, lossAfter, iterations,
                probabilities == null ? new float[0] : probabilities.clone(), classNames, Duration.ofNanos(System.nanoTime() - t0), abandoned);
        LOG.debug("{}", report);
        if (listener != null) {
            listener.onSteeredStep(report);
        }
        return report;
    }

    /**
     * {@code latent -= alpha * g} (or {@code alpha * g / rms(g)} with normalised steps), keeping the
     * latent it started from in {@code previous}; false, with the latent restored, when the result
     * overflowed (a finite gradient times the step size can still overflow float).
     */
    private boolean step(float[] latent, float[] previous, float[] gradient, float alpha) {
        System.arraycopy(latent, 0, previous, 0, latent.length);
        float scale = alpha;
        if (config.normalizedSteps()) {
            double squares = 0;
            for (float v : gradient) {
                squares += (double) v * v;
            }
            double rms = Math.sqrt(squares / gradient.length);
            if (rms == 0) {
                return true;
            }
            scale = (float) (alpha / rms);
        }
        boolean finite = true;
        for (int i = 0; i < latent.length; i++) {
            latent[i] -= scale * gradient[i];
            finite &= Float.isFinite(latent[i]);
        }
        if (!finite) {
            System.arraycopy(previous, 0, latent, 0, latent.length);
        }
        return finite;
    }

    private int classIndex(RelationTriplet triplet) {
        return classNames.indexOf(triplet.relation().canonicalName());
    }

    private static boolean allTrue(boolean[] flags) {
        for (boolean f : flags) {
            if (!f) {
                return false;
            }
        }
        return true;
    }

    /** Takes back the last update, if there was one, after a non-finite evaluation; says what happened. */
    private static String undo(String bad, int iteration, float[] previous, float[] latent) {
        if (previous == null) {
            return bad + " at iteration " + iteration + ": the latent was left unchanged";
        }
        System.arraycopy(previous, 0, latent, 0, latent.length);
        return bad + " at iteration " + iteration + ": the last update was undone";
    }

    private static String nonFinite(SteeringObjective.Evaluation e) {
        if (!Float.isFinite(e.loss())) {
            return "non-finite loss " + e.loss();
        }
        for (float v : e.gradient()) {
            if (!Float.isFinite(v)) {
                return "non-finite gradient";
            }
        }
        return null;
    }
}
