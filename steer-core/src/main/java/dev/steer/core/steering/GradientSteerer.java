package dev.steer.core.steering;

import dev.steer.core.relation.RelationTriplet;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learn-to-Steer's refinement: at each steered step, up to {@code maxIterations} times, evaluate
 * the classifier loss for one triplet (cycling through the prompt's triplets), stop when it is at
 * or below the step's target, otherwise take a plain gradient step {@code z <- z - alpha * grad}.
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
        double target = config.lossTarget(stepIndex);
        float alpha = config.stepSize();
        float[] previous = null;
        float lossBefore = Float.NaN;
        float lossAfter = Float.NaN;
        float[] probabilities = null;
        String abandoned = null;
        int iterations = 0;
        boolean converged = false;
        for (int it = 0; it < config.maxIterations(); it++) {
            RelationTriplet triplet = triplets.get(it % triplets.size());
            SteeringObjective.Evaluation e = objective.evaluate(latent, triplet);
            String bad = nonFinite(e);
            if (bad != null) {
                if (previous != null) {
                    System.arraycopy(previous, 0, latent, 0, latent.length);
                    abandoned = bad + " at iteration " + it + ": the last update was undone";
                } else {
                    abandoned = bad + " at the first evaluation: the latent was left unchanged";
                }
                break;
            }
            if (it == 0) {
                lossBefore = e.loss();
            }
            lossAfter = e.loss();
            probabilities = e.probabilities();
            if (e.loss() <= target) {
                converged = true;
                break;
            }
            if (previous == null) {
                previous = new float[latent.length];
            }
            System.arraycopy(latent, 0, previous, 0, latent.length);
            float[] g = e.gradient();
            boolean finite = true;
            for (int i = 0; i < latent.length; i++) {
                latent[i] -= alpha * g[i];
                finite &= Float.isFinite(latent[i]);
            }
            if (!finite) {
                // a finite gradient times the step size can still overflow float: never keep that
                System.arraycopy(previous, 0, latent, 0, latent.length);
                abandoned = "the update at iteration " + it + " made the latent non-finite (overflow): it was undone";
                break;
            }
            iterations++;
        }
        if (abandoned == null && !converged && iterations > 0 && config.finalEvaluation()) {
            SteeringObjective.Evaluation e = objective.lossOnly(latent, triplets.get(iterations % triplets.size()));
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
