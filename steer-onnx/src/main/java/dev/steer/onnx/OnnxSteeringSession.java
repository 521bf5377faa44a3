package dev.steer.onnx;

import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.relation.RelationClassifier;
import dev.steer.core.relation.RelationParser;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.steering.ClassifierTimesteps;
import dev.steer.core.steering.GradientSteerer;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.core.steering.SteeringRequest;
import dev.steer.core.steering.SteeringStepReport;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.onnx.steering.GradientEstimator;
import dev.steer.onnx.steering.OnnxSteeringObjective;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One steered generation's steering state on ONNX Runtime, as the LibTorch backend's
 * SteeringSession: the triplets (given, or parsed from the prompt) bound to token positions, the
 * core {@link GradientSteerer}, and what it reported; the objective is an
 * {@link OnnxSteeringObjective} (gradient estimated from one batched UNet call per evaluation).
 * Acts as the denoising loop's {@link OnnxStableDiffusion.StepRefiner}.
 *
 * <p>The steerer's telemetry evaluation after its last update (when {@code finalEvaluation} is on)
 * reads only the loss; it is recognised as the call after {@code maxIterations} evaluations of a
 * step and made with the centre latent alone (batch 1) instead of 2n + 1 latents.
 */
final class OnnxSteeringSession implements OnnxStableDiffusion.StepRefiner {
    private final OnnxUNet unet;
    private final RelationClassifier classifier;
    private final FloatTensor cond;
    private final int[] latentShape;
    private final Map<RelationTriplet, TokenBinding> bindings = new LinkedHashMap<>();
    private final GradientSteerer steerer;
    private final GradientEstimator estimator;
    private final long seed;
    private final List<SteeringStepReport> reports = new ArrayList<>();
    private final SteeringRequest request;
    private int evaluations;
    private int unetCalls;
    private long nanos;

    OnnxSteeringSession(SteeringRequest request, TokenizedPrompt prompt, OnnxUNet unet, RelationClassifier classifier,
            FloatTensor cond, int[] latentShape, GradientEstimator estimator, long generationSeed) {
        this.request = request;
        this.unet = unet;
        this.classifier = classifier;
        this.cond = cond;
        this.latentShape = latentShape.clone();
        this.estimator = estimator;
        this.seed = estimator.seed() * 0x9E3779B97F4A7C15L + generationSeed;
        List<RelationTriplet> triplets = request.triplets().isEmpty()
                ? RelationParser.standard().parseRequired(prompt.prompt())
                : request.triplets();
        for (TokenBinding b : TokenBinding.bindAll(prompt, triplets)) {
            classifier.classIndex(b.triplet().relation()); // fails early for a relation the classifier lacks
            bindings.put(b.triplet(), b);
        }
        int maps = 0;
        for (CrossAttentionLayer layer : unet.crossAttentionLayers()) {
            maps += layer.heads();
        }
        if (maps > classifier.mapsPerWord()) {
            throw new IllegalArgumentException("the relation classifier reads at most " + classifier.mapsPerWord()
                    + " maps per word but this UNet has " + maps + " (cross-attention layers x heads): it was trained for another model");
        }
        this.steerer = new GradientSteerer(request.config(), triplets, request.listener());
    }

    /** Token bindings of the triplets, in order. */
    List<TokenBinding> bindings() {
        return List.copyOf(bindings.values());
    }

    /** The triplets, in cycling order. */
    List<RelationTriplet> triplets() {
        return steerer.triplets();
    }

    @Override
    public SteeringStepReport refine(int index, int total, float[] latents, Schedule schedule) {
        if (!steerer.isSteered(index, total)) {
            return null;
        }
        long t0 = System.nanoTime();
        float inputScale = schedule.scaleModelInput(new float[] {1f}, index)[0];
        OnnxSteeringObjective objective = new OnnxSteeringObjective(unet, classifier, cond, schedule.modelTimesteps()[index],
                ClassifierTimesteps.indexFor(index, total), inputScale, latentShape, bindings, estimator, seed + 1_000_003L * index);
        int updates = request.config().maxIterations();
        int[] calls = {0};
        SteeringObjective counted = (latent, triplet) -> {
            evaluations++;
            // the steerer evaluates at most maxIterations times before updating; a further call is its
            // telemetry evaluation, whose gradient it never applies
            return calls[0]++ < updates ? objective.evaluate(latent, triplet) : objective.loss(latent, triplet);
        };
        try {
            SteeringStepReport report = steerer.refine(counted, index, total, latents);
            reports.add(report);
            return report;
        } finally {
            unetCalls += objective.unetCalls();
            nanos += System.nanoTime() - t0;
        }
    }

    /** Reports of the steered steps so far. */
    List<SteeringStepReport> reports() {
        return List.copyOf(reports);
    }

    /** Objective evaluations made by steering. */
    int evaluations() {
        return evaluations;
    }

    /** UNet calls made by steering (one per evaluation unless the estimator limits the batch). */
    int unetCalls() {
        return unetCalls;
    }

    /** Time spent steering. */
    long nanos() {
        return nanos;
    }

    /** Settings and outcome, for the PNG's text chunks (the LibTorch backend's keys, plus the estimator). */
    Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("steering_relations", triplets().toString());
        m.put("steering_config", request.config().toString());
        m.put("steering_gradient", String.format(Locale.ROOT, "forward-only estimate: %d %s directions, relative step %s, "
                + "%d latents per evaluation in %d UNet call(s)", estimator.budget(), estimator.directions().name().toLowerCase(Locale.ROOT),
                estimator.relativeStep(), estimator.latentsPerEvaluation(), estimator.callsPerEvaluation()));
        long abandoned = reports.stream().filter(r -> r.abandoned() != null).count();
        float first = reports.isEmpty() ? Float.NaN : reports.get(0).lossBefore();
        float last = reports.isEmpty() ? Float.NaN : reports.get(reports.size() - 1).lossAfter();
        m.put("steering_summary", reports.size() + " steps steered, " + evaluations + " evaluations, loss " + first + " -> " + last
                + (abandoned > 0 ? ", " + abandoned + " steps abandoned on non-finite values" : ""));
        return m;
    }
}
