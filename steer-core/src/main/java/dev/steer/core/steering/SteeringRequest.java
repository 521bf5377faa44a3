package dev.steer.core.steering;

import dev.steer.core.relation.RelationTriplet;
import java.nio.file.Path;
import java.util.List;

/**
 * Asks a generation to be steered: which relations (explicit, or parsed from the prompt when none
 * are given), with which settings, who listens, and whether to write pictures of the attention
 * maps. Build with {@link #fromPrompt()} or {@link #of(RelationTriplet...)}.
 *
 * @param triplets the relations to enforce; empty means "parse them from the prompt"
 * @param config the refinement settings
 * @param listener receives each steered step's report; may be null
 * @param picturesDir where to write per-step heatmap pictures (steered beside vanilla); null for none
 */
public record SteeringRequest(List<RelationTriplet> triplets, SteeringConfig config, SteeringListener listener,
        Path picturesDir) {

    /** Copies the triplets. */
    public SteeringRequest {
        triplets = List.copyOf(triplets);
        java.util.Objects.requireNonNull(config, "config");
    }

    /** Steering with the relations found in the prompt and the reference defaults. */
    public static SteeringRequest fromPrompt() {
        return new SteeringRequest(List.of(), SteeringConfig.DEFAULTS, null, null);
    }

    /** Steering with explicit relations (no parsing) and the reference defaults. */
    public static SteeringRequest of(RelationTriplet... triplets) {
        if (triplets.length == 0) {
            throw new IllegalArgumentException("give at least one triplet, or use fromPrompt()");
        }
        return new SteeringRequest(List.of(triplets), SteeringConfig.DEFAULTS, null, null);
    }

    /** The same request with other settings. */
    public SteeringRequest withConfig(SteeringConfig c) {
        return new SteeringRequest(triplets, c, listener, picturesDir);
    }

    /** The same request with a listener. */
    public SteeringRequest withListener(SteeringListener l) {
        return new SteeringRequest(triplets, config, l, picturesDir);
    }

    /** The same request, writing heatmap pictures into {@code dir}. */
    public SteeringRequest withPictures(Path dir) {
        return new SteeringRequest(triplets, config, listener, dir);
    }
}
