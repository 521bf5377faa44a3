package dev.steer.core.steering;

import dev.steer.core.relation.RelationTriplet;

/**
 * The Learn-to-Steer loss at one denoising step, as a function of the noisy latent: run the
 * denoiser on the conditional prompt, read the two words' attention maps, classify, take the
 * cross-entropy against the asked relation. Backends provide it: LibTorch with the exact
 * gradient, ONNX Runtime with a gradient estimated from forward passes.
 */
public interface SteeringObjective {

    /**
     * Evaluates the loss and its gradient with respect to the latent.
     *
     * @param latent the noisy latent, flattened [C * H * W]
     * @param triplet the relation to score
     */
    Evaluation evaluate(float[] latent, RelationTriplet triplet);

    /**
     * The loss, class probabilities and the words' map overlap alone, for telemetry after the last
     * update and for comparing noise candidates (the gradient is never applied). By default a full {@link #evaluate}; a backend whose gradient
     * costs many model passes answers with one.
     */
    default Evaluation lossOnly(float[] latent, RelationTriplet triplet) {
        return evaluate(latent, triplet);
    }

    /**
     * Whether a steerer should read the loss alone ({@link #lossOnly}) and ask for the gradient only
     * when it will take a step: true where the gradient costs many times a forward pass (a
     * forward-only estimate evaluates 2n + 1 latents, the loss one), so that a step whose relation
     * already holds costs one latent. False (the default) where the gradient comes with the loss at
     * about the cost of a backward pass: reading the loss first would add a forward pass to every
     * update.
     */
    default boolean readsLossBeforeGradient() {
        return false;
    }

    /**
     * Denoiser calls this objective has made so far (what a steered step costs in model passes), or
     * 0 when it does not count them; the engine then counts one call per evaluation.
     */
    default int modelCalls() {
        return 0;
    }

    /**
     * Latents the denoiser has evaluated for this objective so far (a call on a batch of 2n + 1
     * perturbed latents counts 2n + 1), or 0 when it does not count them; the engine then counts
     * its {@link #modelCalls()}.
     */
    default int latentEvaluations() {
        return 0;
    }

    /**
     * One evaluation.
     *
     * @param loss cross-entropy against the asked relation
     * @param gradient d loss / d latent, same layout as the latent (may be an estimate)
     * @param probabilities the classifier's softmax over its classes
     * @param wordOverlap how much the two words' maps overlap
     *     ({@link dev.steer.core.attention.AttentionProbe#wordOverlap}); NaN when not measured
     */
    record Evaluation(float loss, float[] gradient, float[] probabilities, float wordOverlap) {

        /** An evaluation that does not measure the words' overlap. */
        public Evaluation(float loss, float[] gradient, float[] probabilities) {
            this(loss, gradient, probabilities, Float.NaN);
        }
    }
}
