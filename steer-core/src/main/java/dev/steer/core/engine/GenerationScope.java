package dev.steer.core.engine;

import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.core.tokenizer.TokenizedPrompt;
import java.util.List;
import java.util.Map;

/**
 * The native-memory scope of one generation on a backend: everything it creates (encoded prompts,
 * per-call intermediates) is released by {@link #close()}, which the engine calls when the
 * generation ends, fails or is cancelled.
 *
 * @param <E> the backend's encoded-prompt type
 */
public interface GenerationScope<E> extends AutoCloseable {

    /** Encodes a tokenized prompt to the text encoder's hidden states [1, tokens, dim]. */
    E encode(TokenizedPrompt prompt);

    /** The batch [first, second] of two encoded prompts (classifier-free guidance's [uncond, cond]). */
    E pair(E first, E second);

    /**
     * One denoiser call.
     *
     * @param context encoded prompts, one per batch item (or one for the whole batch)
     * @param modelInput the scaled latents [batch, C, h, w] flattened
     * @param batch number of latents in {@code modelInput}
     * @param latentHeight h
     * @param latentWidth w
     * @param modelTimestep the timestep passed to the model
     * @param guidance the guidance value for a model that embeds it ({@link GuidanceMode#EMBEDDED}); others ignore it
     * @param probe an attention probe made by {@link #newProbe}, or null for none
     * @param probeItem which batch item the probe observes
     * @return the model output [batch, C, h, w] flattened
     */
    float[] predict(E context, float[] modelInput, int batch, int latentHeight, int latentWidth, float modelTimestep, float guidance,
            AttentionProbe<?> probe, int probeItem);

    /** Decodes a latent (the VAE's scaling undone here) to [3, H, W] pixel values in about [-1, 1]. */
    float[] decode(float[] latents, int latentHeight, int latentWidth);

    /** A probe of this backend over every probed layer, for these words' token positions. */
    AttentionProbe<?> newProbe(List<int[]> wordTokenPositions);

    /**
     * The steering loss of one steered step as a function of the latent (exact gradient, or an
     * estimate), for the conditional prompt {@code cond}.
     */
    SteeringObjective steeringObjective(E cond, SteeringStep step, Map<RelationTriplet, TokenBinding> bindings);

    /** Releases what this scope created. */
    @Override
    void close();
}
