package dev.steer.pytorch.relation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.relation.RelationClassifier;

/**
 * A {@link RelationClassifier} on LibTorch arrays, differentiable: the steering loss is
 * back-propagated through {@link #logits(NDArray, NDArray)} to the latent, and training updates its
 * weights through it. The Java-array {@link #logits(float[], int, long[])} of the core contract runs
 * the same computation on a temporary manager.
 */
public interface TorchRelationClassifier extends RelationClassifier {

    /**
     * Class logits.
     *
     * @param maps [batch, 2 (subject, object), maps, 16, 16], each map summing to 1
     * @param timestepIndex [batch] int64 classifier timestep indices
     * @return [batch, classes]
     */
    NDArray logits(NDArray maps, NDArray timestepIndex);

    @Override
    default float[] logits(float[] maps, int mapsPerWord, long[] timestepIndices) {
        int batch = timestepIndices.length;
        int side = RelationClassifier.mapSide(maps, mapsPerWord, batch);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(maps, new Shape(batch, 2, mapsPerWord, side, side));
            return logits(x, m.create(timestepIndices, new Shape(batch))).toFloatArray();
        }
    }
}
