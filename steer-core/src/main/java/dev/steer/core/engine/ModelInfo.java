package dev.steer.core.engine;

import dev.steer.core.generation.ModelDefaults;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.relation.RelationClassifier;
import dev.steer.core.scheduler.Scheduler;
import java.util.List;
import java.util.Objects;

/**
 * What the engine needs to know about a loaded model before it generates.
 *
 * @param description a short description of the model, for logs and PNG metadata
 * @param scheduler the scheduler from the model folder (or the one chosen when loading)
 * @param geometry the latent's channels, pixels per latent cell, size constraints and default size
 * @param probeLayers the cross-attention layers a probe observes, in execution order (their heads
 *     make the maps per word)
 * @param relationClassifier the relation classifier loaded for steering, or null when none was
 * @param guidanceMode how the request's guidance scale is applied
 * @param defaults the settings the family is meant to run with
 */
public record ModelInfo(String description, Scheduler scheduler, LatentGeometry geometry, List<CrossAttentionLayer> probeLayers,
        RelationClassifier relationClassifier, GuidanceMode guidanceMode, ModelDefaults defaults) {

    /** Copies the layer list; everything but the classifier is required. */
    public ModelInfo {
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(geometry, "geometry");
        Objects.requireNonNull(guidanceMode, "guidanceMode");
        Objects.requireNonNull(defaults, "defaults");
        probeLayers = List.copyOf(probeLayers);
    }

    /** A UNet family model: classifier-free guidance and Stable Diffusion's defaults at its native size. */
    public ModelInfo(String description, Scheduler scheduler, LatentGeometry geometry, List<CrossAttentionLayer> probeLayers,
            RelationClassifier relationClassifier) {
        this(description, scheduler, geometry, probeLayers, relationClassifier, GuidanceMode.CLASSIFIER_FREE,
                ModelDefaults.stableDiffusion(geometry.defaultImageSize()));
    }
}
