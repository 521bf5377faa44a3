package dev.steer.core.relation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
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

    /**
     * Class logits on Java arrays, for backends without an NDArray engine that computes (ONNX
     * Runtime) and for callers that hold their maps as floats. Same layout and meaning as
     * {@link #logits(NDArray, NDArray)}; no gradient flows through it.
     *
     * <p>The default implementation goes through {@link #logits(NDArray, NDArray)} on arrays of
     * the default engine's manager; backends that compute without NDArrays override it.
     *
     * @param maps [batch, 2, mapsPerWord, side, side] flattened, each map summing to 1
     * @param mapsPerWord maps per word in {@code maps}
     * @param timestepIndices one classifier timestep index per batch item
     * @return [batch, classes] flattened
     * @throws IllegalArgumentException when {@code maps} does not hold batch x 2 x mapsPerWord square maps
     */
    default float[] logits(float[] maps, int mapsPerWord, long[] timestepIndices) {
        int batch = timestepIndices.length;
        int side = mapSide(maps, mapsPerWord, batch);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(maps, new Shape(batch, 2, mapsPerWord, side, side));
            return logits(x, m.create(timestepIndices, new Shape(batch))).toFloatArray();
        }
    }

    /**
     * The side of the square maps in {@code maps} laid out as [batch, 2, mapsPerWord, side, side].
     *
     * @throws IllegalArgumentException when {@code maps} does not hold batch x 2 x mapsPerWord square maps
     */
    static int mapSide(float[] maps, int mapsPerWord, int batch) {
        long per = 2L * batch * mapsPerWord;
        int side = per == 0 ? 0 : (int) Math.round(Math.sqrt((double) maps.length / per));
        if (batch < 1 || mapsPerWord < 1 || (long) side * side * per != maps.length) {
            throw new IllegalArgumentException(maps.length + " values are not " + batch + " x 2 x " + mapsPerWord + " square maps");
        }
        return side;
    }

    @Override
    void close();
}
