package dev.steer.onnx;

import dev.steer.core.relation.RelationClassifier;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.steering.ClassifierTimesteps;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.core.steering.SteeringRequest;
import dev.steer.core.steering.SteeringRun;
import dev.steer.core.steering.SteeringStepReport;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.onnx.steering.GradientEstimator;
import dev.steer.onnx.steering.OnnxSteeringObjective;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The denoising loop's {@link OnnxStableDiffusion.StepRefiner} on ONNX Runtime: at each steered
 * step, an {@link OnnxSteeringObjective} (gradient estimated from one batched UNet call per
 * evaluation) for the core {@link SteeringRun}, which holds the bindings, reports and metadata as
 * on the LibTorch backend.
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
    private final GradientEstimator estimator;
    private final long seed;
    private final SteeringRun run;
    private int unetCalls;

    OnnxSteeringSession(SteeringRequest request, TokenizedPrompt prompt, OnnxUNet unet, RelationClassifier classifier,
            FloatTensor cond, int[] latentShape, GradientEstimator estimator, long generationSeed) {
        this.unet = unet;
        this.classifier = classifier;
        this.cond = cond;
        this.latentShape = latentShape.clone();
        this.estimator = estimator;
        this.seed = estimator.seed() * 0x9E3779B97F4A7C15L + generationSeed;
        this.run = new SteeringRun(request, prompt, classifier, SteeringRun.mapsPerWord(unet.crossAttentionLayers()));
    }

    @Override
    public SteeringStepReport refine(int index, int total, float[] latents, Schedule schedule) {
        if (!run.isSteered(index, total)) {
            return null;
        }
        float inputScale = schedule.scaleModelInput(new float[] {1f}, index)[0];
        OnnxSteeringObjective objective = new OnnxSteeringObjective(unet, classifier, cond, schedule.modelTimesteps()[index],
                ClassifierTimesteps.indexFor(index, total), inputScale, latentShape, run.bindings(), estimator,
                seed + 1_000_003L * index);
        int updates = run.request().config().maxIterations();
        int[] calls = {0};
        // the steerer evaluates at most maxIterations times before updating; a further call is its
        // telemetry evaluation, whose gradient it never applies
        SteeringObjective lossOnlyAtTheEnd = (latent, triplet) ->
                calls[0]++ < updates ? objective.evaluate(latent, triplet) : objective.loss(latent, triplet);
        try {
            return run.refine(lossOnlyAtTheEnd, index, total, latents);
        } finally {
            unetCalls += objective.unetCalls();
        }
    }

    /** UNet calls made by steering (one per evaluation unless the estimator limits the batch). */
    int unetCalls() {
        return unetCalls;
    }

    /** Time spent steering. */
    long nanos() {
        return run.nanos();
    }

    /** Reports of the steered steps so far. */
    List<SteeringStepReport> reports() {
        return run.reports();
    }

    /** The LibTorch backend's steering entries plus the estimator's settings, for the PNG's text chunks. */
    Map<String, String> metadata() {
        Map<String, String> m = run.metadata();
        m.put("steering_gradient", String.format(Locale.ROOT, "forward-only estimate: %d %s directions, relative step %s, "
                + "%d latents per evaluation in %d UNet call(s)", estimator.budget(), estimator.directions().name().toLowerCase(Locale.ROOT),
                estimator.relativeStep(), estimator.latentsPerEvaluation(), estimator.callsPerEvaluation()));
        return m;
    }
}
