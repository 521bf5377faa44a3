package dev.steer.core.steering;

import dev.steer.core.relation.RelationClassifier;
import dev.steer.core.relation.RelationParser;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.tokenizer.TokenizedPrompt;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One steered generation's steering state, shared by every backend: the relations (given, or parsed
 * from the prompt) bound to token positions and checked against the classifier, the
 * {@link Steerer}, and what it did (reports, evaluations, model calls, time, the PNG's steering
 * entries). The generation engine supplies the backend's {@link SteeringObjective} of each steered
 * step.
 */
public final class SteeringRun {
    private final SteeringRequest request;
    private final List<RelationTriplet> triplets;
    private final Map<RelationTriplet, TokenBinding> bindings = new LinkedHashMap<>();
    private final Map<RelationTriplet, Integer> askedClass = new LinkedHashMap<>();
    private final Steerer steerer;
    private final List<SteeringStepReport> reports = new ArrayList<>();
    private int evaluations;
    private int modelCalls;
    private int latentEvaluations;
    private long nanos;
    private int chosenNoise = -1;
    private double[] noiseLosses;

    /**
     * @param request what to steer and how
     * @param prompt the tokenized prompt (relations are parsed from it when the request gives none)
     * @param classifier the relation classifier (must know every asked relation)
     * @throws IllegalArgumentException naming the problem: no relation in the prompt, a word not in it,
     *     a relation the classifier lacks
     */
    public SteeringRun(SteeringRequest request, TokenizedPrompt prompt, RelationClassifier classifier) {
        this.request = request;
        this.triplets = request.triplets().isEmpty()
                ? RelationParser.standard().parseRequired(prompt.prompt())
                : request.triplets();
        for (TokenBinding b : TokenBinding.bindAll(prompt, triplets)) {
            askedClass.put(b.triplet(), classifier.classIndex(b.triplet().relation())); // fails early for a relation it lacks
            bindings.put(b.triplet(), b);
        }
        this.steerer = new GradientSteerer(request.config(), triplets, request.listener(), classifier.classNames());
    }

    /** The request. */
    public SteeringRequest request() {
        return request;
    }

    /** Token positions of each triplet's words, in cycling order. */
    public Map<RelationTriplet, TokenBinding> bindings() {
        return Collections.unmodifiableMap(bindings);
    }

    /** The first triplet's binding (the words the pictures show). */
    public TokenBinding firstBinding() {
        return bindings.values().iterator().next();
    }

    /** The triplets, in cycling order. */
    public List<RelationTriplet> triplets() {
        return triplets;
    }

    /** Whether step {@code index} of {@code total} is steered. */
    public boolean isSteered(int index, int total) {
        return steerer.isSteered(index, total);
    }

    /**
     * Refines {@code latents} in place at a steered step with the backend's objective, and records it.
     *
     * @param beforeEachEvaluation run before every objective evaluation (the engine's cancellation check)
     */
    public SteeringStepReport refine(SteeringObjective objective, int index, int total, float[] latents,
            Runnable beforeEachEvaluation) {
        long t0 = System.nanoTime();
        int[] counted = {0};
        SteeringObjective checked = new SteeringObjective() {
            @Override
            public Evaluation evaluate(float[] latent, RelationTriplet triplet) {
                beforeEachEvaluation.run();
                counted[0]++;
                return objective.evaluate(latent, triplet);
            }

            @Override
            public Evaluation lossOnly(float[] latent, RelationTriplet triplet) {
                beforeEachEvaluation.run();
                counted[0]++;
                return objective.lossOnly(latent, triplet);
            }

            @Override
            public boolean readsLossBeforeGradient() {
                return objective.readsLossBeforeGradient();
            }
        };
        try {
            SteeringStepReport report = steerer.refine(checked, index, total, latents);
            reports.add(report);
            return report;
        } finally {
            evaluations += counted[0];
            int calls = objective.modelCalls() > 0 ? objective.modelCalls() : counted[0];
            modelCalls += calls;
            latentEvaluations += objective.latentEvaluations() > 0 ? objective.latentEvaluations() : calls;
            nanos += System.nanoTime() - t0;
        }
    }

    /**
     * Chooses the initial noise to steer from among candidates by the classifier's verdict at one
     * step (the objective's): the one with the lowest loss summed over the triplets or, with
     * {@link SteeringConfig#separateWords()}, among the candidates on which every triplet is already
     * satisfied ({@link SteeringConfig#isSatisfied}), the one whose words' maps overlap least. One
     * forward pass per candidate and triplet, through {@link SteeringObjective#lossOnly}; counted
     * in the model calls, evaluations and time; the choice goes into {@link #metadata()}.
     *
     * @param objective the objective at the step the candidates are compared
     * @param candidates each candidate's latent at that step; candidate 0 comes from the seed's own noise
     * @param beforeEachEvaluation run before every evaluation (the engine's cancellation check)
     * @return the index of the chosen candidate
     */
    public int chooseInitialNoise(SteeringObjective objective, List<float[]> candidates, Runnable beforeEachEvaluation) {
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("no initial noise to choose from");
        }
        SteeringConfig config = request.config();
        long t0 = System.nanoTime();
        int before = objective.modelCalls();
        int latentsBefore = objective.latentEvaluations();
        int counted = 0;
        double[] losses = new double[candidates.size()];
        double[] overlaps = new double[candidates.size()];
        boolean[] holds = new boolean[candidates.size()];
        try {
            for (int c = 0; c < candidates.size(); c++) {
                holds[c] = true;
                for (RelationTriplet t : triplets) {
                    beforeEachEvaluation.run();
                    counted++;
                    SteeringObjective.Evaluation e = objective.lossOnly(candidates.get(c).clone(), t);
                    losses[c] += e.loss();
                    overlaps[c] += e.wordOverlap();
                    holds[c] &= config.isSatisfied(config.selectionStep(), e.loss(), e.probabilities(), askedClass.get(t));
                }
            }
        } finally {
            evaluations += counted;
            int calls = objective.modelCalls() > 0 ? objective.modelCalls() - before : counted;
            modelCalls += calls;
            latentEvaluations += objective.latentEvaluations() > 0 ? objective.latentEvaluations() - latentsBefore : calls;
            nanos += System.nanoTime() - t0;
        }
        int best = -1;
        if (config.separateWords()) {
            for (int c = 0; c < candidates.size(); c++) {
                if (holds[c] && !Double.isNaN(overlaps[c]) && (best < 0 || overlaps[c] < overlaps[best])) {
                    best = c;
                }
            }
        }
        if (best < 0) {
            best = 0;
            for (int c = 1; c < candidates.size(); c++) {
                if (losses[c] < losses[best] || Double.isNaN(losses[best])) {
                    best = c;
                }
            }
        }
        chosenNoise = best;
        noiseLosses = losses;
        return best;
    }

    /**
     * Adds denoiser calls made for steering outside the objective (the steps of noise candidates
     * that were not chosen).
     */
    public void countModelCalls(int calls) {
        if (calls < 0) {
            throw new IllegalArgumentException("calls must be non-negative, got " + calls);
        }
        modelCalls += calls;
        latentEvaluations += calls;
    }

    /** Reports of the steered steps so far. */
    public List<SteeringStepReport> reports() {
        return List.copyOf(reports);
    }

    /** Objective evaluations so far. */
    public int evaluations() {
        return evaluations;
    }

    /** Denoiser calls made by steering so far. */
    public int modelCalls() {
        return modelCalls;
    }

    /**
     * Latents the denoiser evaluated for steering so far ({@link SteeringObjective#latentEvaluations};
     * equal to {@link #modelCalls()} when every call evaluates one latent).
     */
    public int latentEvaluations() {
        return latentEvaluations;
    }

    /** Time spent refining. */
    public long nanos() {
        return nanos;
    }

    /** Settings and outcome, for the PNG's text chunks. */
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("steering_relations", triplets.toString());
        m.put("steering_config", request.config().toString());
        long abandoned = reports.stream().filter(r -> r.abandoned() != null).count();
        float first = reports.isEmpty() ? Float.NaN : reports.get(0).lossBefore();
        float last = reports.isEmpty() ? Float.NaN : reports.get(reports.size() - 1).lossAfter();
        if (chosenNoise >= 0) {
            StringBuilder losses = new StringBuilder();
            for (double l : noiseLosses) {
                losses.append(losses.length() == 0 ? "" : ", ").append(String.format(java.util.Locale.ROOT, "%.4g", l));
            }
            m.put("steering_noise", "candidate " + chosenNoise + " of " + noiseLosses.length + " (classifier losses at step "
                    + request.config().selectionStep() + ": " + losses + ")");
        }
        m.put("steering_summary", reports.size() + " steps steered, " + evaluations + " evaluations, loss " + first + " -> " + last
                + (abandoned > 0 ? ", " + abandoned + " steps abandoned on non-finite values" : ""));
        return m;
    }
}
