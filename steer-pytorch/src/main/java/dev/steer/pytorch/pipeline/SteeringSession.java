package dev.steer.pytorch.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.relation.RelationClassifier;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.steering.ClassifierTimesteps;
import dev.steer.core.steering.SteeringRequest;
import dev.steer.core.steering.SteeringRun;
import dev.steer.core.steering.SteeringStepReport;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.pytorch.steering.TorchSteeringObjective;
import dev.steer.pytorch.unet.UNet2DConditionModel;

/**
 * The denoising loop's {@link StableDiffusion.StepRefiner} on LibTorch: at each steered step, a
 * {@link TorchSteeringObjective} (exact gradient) for the core {@link SteeringRun}.
 */
final class SteeringSession implements StableDiffusion.StepRefiner {
    private final UNet2DConditionModel unet;
    private final RelationClassifier classifier;
    private final NDArray cond;
    private final Shape latentShape;
    private final SteeringRun run;

    SteeringSession(SteeringRequest request, TokenizedPrompt prompt, UNet2DConditionModel unet, RelationClassifier classifier,
            NDArray cond, Shape latentShape) {
        this.unet = unet;
        this.classifier = classifier;
        this.cond = cond;
        this.latentShape = latentShape;
        this.run = new SteeringRun(request, prompt, classifier, SteeringRun.mapsPerWord(unet.crossAttentionLayers()));
    }

    /** The backend-neutral state: bindings, reports, evaluations, metadata. */
    SteeringRun run() {
        return run;
    }

    @Override
    public SteeringStepReport refine(int index, int total, float[] latents, Schedule schedule) {
        if (!run.isSteered(index, total)) {
            return null;
        }
        float inputScale = schedule.scaleModelInput(new float[] {1f}, index)[0];
        TorchSteeringObjective exact = new TorchSteeringObjective(unet, classifier, cond, schedule.modelTimesteps()[index],
                ClassifierTimesteps.indexFor(index, total), inputScale, latentShape, run.bindings());
        return run.refine(exact, index, total, latents);
    }
}
