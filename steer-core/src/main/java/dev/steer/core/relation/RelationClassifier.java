package dev.steer.core.relation;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Reads the spatial relation between two words from their cross-attention maps: the
 * Learn-to-Steer classifier. Input maps come from an {@link dev.steer.core.attention.AttentionProbe}
 * in the reference layout; the output is one logit per relation, in the checkpoint's class order.
 *
 * <p>Backends implement it with their own arrays: differentiably on LibTorch (the steering loss is
 * back-propagated through it to the latent), forward-only on ONNX Runtime.
 */
public interface RelationClassifier extends AutoCloseable {

    /** Class names by index, as stored in the checkpoint ({@code idx_to_rel_name}). */
    List<String> classNames();

    /** The class index of a relation. @throws IllegalArgumentException if the checkpoint lacks it */
    default int classIndex(SpatialRelation relation) {
        int i = classNames().indexOf(relation.canonicalName());
        if (i < 0) {
            throw new IllegalArgumentException("the classifier has no class '" + relation.canonicalName() + "' (classes: "
                    + classNames() + ")");
        }
        return i;
    }

    /** Number of maps per word the classifier was built for (e.g. 128 for SD 1.4, 195 for SD 2.1). */
    int mapsPerWord();

    /** Number of timestep indices the classifier embeds (50 for the published checkpoints). */
    int timestepIndices();

    /**
     * Class logits.
     *
     * @param maps [batch, 2 (subject, object), maps, 16, 16], each map summing to 1
     * @param timestepIndex [batch] int64 classifier timestep indices
     * @return [batch, classes]
     */
    NDArray logits(NDArray maps, NDArray timestepIndex);

    @Override
    void close();
}
