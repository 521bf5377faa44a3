package dev.steer.pytorch.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
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
import dev.steer.pytorch.steering.TorchSteeringObjective;
import dev.steer.pytorch.unet.UNet2DConditionModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One steered generation's steering state: the triplets (given or parsed from the prompt) bound to
 * token positions, the {@link GradientSteerer}, and what it reported. Acts as the denoising loop's
 * {@link StableDiffusion.StepRefiner}.
 */
final class SteeringSession implements StableDiffusion.StepRefiner {
    private final UNet2DConditionModel unet;
    private final RelationClassifier classifier;
    private final NDArray cond;
    private final Shape latentShape;
    private final Map<RelationTriplet, TokenBinding> bindings = new LinkedHashMap<>();
    private final GradientSteerer steerer;
    private final List<SteeringStepReport> reports = new ArrayList<>();
    private final SteeringRequest request;
    private int evaluations;
    private long nanos;

    SteeringSession(SteeringRequest request, TokenizedPrompt prompt, UNet2DConditionModel unet, RelationClassifier classifier,
            NDArray cond, Shape latentShape) {
        this.request = request;
        this.unet = unet;
        this.classifier = classifier;
        this.cond = cond;
        this.latentShape = latentShape;
        List<RelationTriplet> triplets = request.triplets().isEmpty()
                ? RelationParser.standard().parseRequired(prompt.prompt())
                : request.triplets();
        for (TokenBinding b : TokenBinding.bindAll(prompt, triplets)) {
            classifier.classIndex(b.triplet().relation()); // fails early for a relation the classifier lacks
            bindings.put(b.triplet(), b);
        }
        int maps = 0;
        for (var layer : unet.crossAttentionLayers()) {
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

    /** Whether step {@code index} of {@code total} is steered. */
    boolean isSteered(int index, int total) {
        return steerer.isSteered(index, total);
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
        TorchSteeringObjective exact = new TorchSteeringObjective(unet, classifier, cond, schedule.modelTimesteps()[index],
                ClassifierTimesteps.indexFor(index, total), inputScale, latentShape, bindings);
        SteeringObjective counted = (latent, triplet) -> {
            evaluations++;
            return exact.evaluate(latent, triplet);
        };
        SteeringStepReport report = steerer.refine(counted, index, total, latents);
        reports.add(report);
        nanos += System.nanoTime() - t0;
        return report;
    }

    /** Reports of the steered steps so far. */
    List<SteeringStepReport> reports() {
        return List.copyOf(reports);
    }

    /** UNet calls made by steering (one per evaluation). */
    int evaluations() {
        return evaluations;
    }

    /** Time spent steering. */
    long nanos() {
        return nanos;
    }

    /** Settings and outcome, for the PNG's text chunks. */
    Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("steering_relations", triplets().toString());
        m.put("steering_config", request.config().toString());
        long abandoned = reports.stream().filter(r -> r.abandoned() != null).count();
        float first = reports.isEmpty() ? Float.NaN : reports.get(0).lossBefore();
        float last = reports.isEmpty() ? Float.NaN : reports.get(reports.size() - 1).lossAfter();
        m.put("steering_summary", reports.size() + " steps steered, " + evaluations + " evaluations, loss " + first + " -> " + last
                + (abandoned > 0 ? ", " + abandoned + " steps abandoned on non-finite values" : ""));
        return m;
    }
}
