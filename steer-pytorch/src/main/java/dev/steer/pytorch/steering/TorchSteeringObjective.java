package dev.steer.pytorch.steering;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.pytorch.relation.TorchRelationClassifier;
import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.pytorch.attention.TorchAttentionProbe;
import dev.steer.pytorch.nn.GradientSection;
import dev.steer.pytorch.internal.nn.Scalars;
import dev.steer.pytorch.unet.UNet2DConditionModel;
import java.util.List;
import java.util.Map;

/**
 * The Learn-to-Steer loss at one denoising step with its exact gradient, on LibTorch: the denoiser
 * (a UNet, a FLUX transformer: a {@link ProbedDenoiser}) runs on the conditional prompt alone
 * (batch 1) with a {@link TorchAttentionProbe}, the relation classifier reads the subject's and
 * object's maps, and the cross-entropy against the asked relation is back-propagated to the latent
 * (and only to it: model weights record no gradients).
 */
public final class TorchSteeringObjective implements SteeringObjective {
    private final ProbedDenoiser denoiser;
    private final TorchRelationClassifier classifier;
    private final NDManager parent;
    private final int classifierTimestep;
    private final Shape latentShape;
    private final Map<RelationTriplet, TokenBinding> bindings;

    /**
     * @param unet the denoiser
     * @param classifier the relation classifier
     * @param context conditional text hidden states [1, T, D]; evaluations run in sub-scopes of its manager
     * @param modelTimestep the timestep passed to the UNet at this step
     * @param classifierTimestep the classifier's timestep index for this step
     * @param inputScale the scheduler's model-input scale at this step (1 for DDIM; 1/sqrt(sigma^2+1) for Euler)
     * @param latentShape [1, C, h, w]
     * @param bindings token positions of each triplet's words
     */
    public TorchSteeringObjective(UNet2DConditionModel unet, TorchRelationClassifier classifier, NDArray context,
            float modelTimestep, int classifierTimestep, float inputScale, Shape latentShape,
            Map<RelationTriplet, TokenBinding> bindings) {
        this(new ProbedDenoiser() {
            @Override
            public TorchAttentionProbe newProbe(List<int[]> words) {
                return new TorchAttentionProbe(words);
            }

            @Override
            public void run(NDArray latent, TorchAttentionProbe probe) {
                NDArray input = inputScale == 1f ? latent : Scalars.mul(latent, inputScale);
                unet.forward(input, latent.getManager().create(new float[] {modelTimestep}), context, probe.asHook(0));
            }
        }, classifier, context.getManager(), classifierTimestep, latentShape, bindings);
    }

    /**
     * @param denoiser the model family's probed pass at this step
     * @param classifier the relation classifier
     * @param parent evaluations run in sub-scopes of this manager
     * @param classifierTimestep the classifier's timestep index for this step
     * @param latentShape [1, C, h, w]
     * @param bindings token positions of each triplet's words
     */
    public TorchSteeringObjective(ProbedDenoiser denoiser, TorchRelationClassifier classifier, NDManager parent, int classifierTimestep,
            Shape latentShape, Map<RelationTriplet, TokenBinding> bindings) {
        this.denoiser = denoiser;
        this.classifier = classifier;
        this.parent = parent;
        this.classifierTimestep = classifierTimestep;
        this.latentShape = latentShape;
        this.bindings = Map.copyOf(bindings);
    }

    @Override
    public Evaluation evaluate(float[] latent, RelationTriplet triplet) {
        Detailed d = evaluateDetailed(latent, triplet, false);
        return d.evaluation();
    }

    /**
     * The loss, probabilities and words' map overlap from one forward pass, without recording or
     * back-propagating a gradient (about a third of {@link #evaluate}'s cost); the evaluation's
     * gradient is empty.
     */
    @Override
    public Evaluation lossOnly(float[] latent, RelationTriplet triplet) {
        TokenBinding binding = binding(triplet);
        int target = classifier.classIndex(triplet.relation());
        try (NDManager scope = parent.newSubManager()) {
            NDArray z = scope.create(latent, latentShape);
            TorchAttentionProbe probe = denoiser.newProbe(List.of(binding.subjectPositions(), binding.objectPositions()));
            denoiser.run(z, probe);
            NDArray input = probe.classifierInput();
            NDArray logSoftmax = classifier.logits(input.expandDims(0), scope.create(new long[] {classifierTimestep})).logSoftmax(1);
            return new Evaluation(-logSoftmax.getFloat(0, target), new float[0], logSoftmax.exp().toFloatArray(),
                    AttentionProbe.wordOverlap(input.toFloatArray(), (int) input.getShape().get(2)));
        }
    }

    private TokenBinding binding(RelationTriplet triplet) {
        TokenBinding binding = bindings.get(triplet);
        if (binding == null) {
            throw new IllegalArgumentException("no token positions for " + triplet);
        }
        return binding;
    }

    /**
     * One evaluation with the intermediate tensors copied out (maps and logits), for conformance
     * tests and the heatmap pictures.
     *
     * @param keepMaps whether to copy the classifier input maps [2, N, 16, 16] out
     */
    public Detailed evaluateDetailed(float[] latent, RelationTriplet triplet, boolean keepMaps) {
        TokenBinding binding = binding(triplet);
        int target = classifier.classIndex(triplet.relation());
        try (NDManager scope = parent.newSubManager()) {
            NDArray z = scope.create(latent, latentShape);
            z.setRequiresGradient(true);
            TorchAttentionProbe probe = denoiser.newProbe(List.of(binding.subjectPositions(), binding.objectPositions()));
            float loss;
            float[] logits;
            float[] maps = null;
            float[] probabilities;
            try (GradientSection gc = GradientSection.open()) {
                denoiser.run(z, probe);
                NDArray classifierInput = probe.classifierInput().expandDims(0);
                if (keepMaps) {
                    maps = classifierInput.toFloatArray();
                }
                NDArray out = classifier.logits(classifierInput, scope.create(new long[] {classifierTimestep}));
                NDArray logSoftmax = out.logSoftmax(1);
                NDArray ce = logSoftmax.get(0, target).neg();
                gc.backward(ce);
                loss = ce.getFloat();
                logits = out.toFloatArray();
                probabilities = logSoftmax.exp().toFloatArray();
            }
            float[] grad = z.getGradient().toFloatArray();
            return new Detailed(new Evaluation(loss, grad, probabilities), logits, maps);
        }
    }

    /**
     * An evaluation with its intermediates.
     *
     * @param evaluation loss, gradient, probabilities
     * @param logits the classifier's logits
     * @param maps the classifier input [2, N, 16, 16] flattened, or null when not kept
     */
    public record Detailed(Evaluation evaluation, float[] logits, float[] maps) {
    }
}
