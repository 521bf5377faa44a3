package dev.steer.core.relation;

import dev.steer.core.steering.ClassifierTimesteps;
import java.util.List;

/**
 * Reads the spatial relation between two words from their cross-attention maps: the
 * Learn-to-Steer classifier. Input maps come from an {@link dev.steer.core.attention.AttentionProbe}
 * in the reference layout; the output is one logit per relation, in the checkpoint's class order.
 *
 * <p>This is the backend-neutral contract the generation engine runs through: Java arrays in and
 * out. Backends implement it with their own arrays underneath, and may add a differentiable
 * interface of their own (LibTorch's {@code TorchRelationClassifier}, through which the steering
 * loss is back-propagated to the latent); ONNX Runtime runs it forward-only.
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

    /** Where the classifier was loaded from (its checkpoint file or folder), for messages; null when built in memory. */
    default java.nio.file.Path source() {
        return null;
    }

    /** Number of maps per word the classifier was built for (e.g. 128 for SD 1.4, 195 for SD 2.1). */
    int mapsPerWord();

    /** Number of timestep indices the classifier embeds (50 for the published checkpoints). */
    int timestepIndices();

    /**
     * The timestep indices the classifier was trained at ({@code training_config.timesteps} of its
     * checkpoint), strictly increasing, each below {@link #timestepIndices()}. The default is the published SD
     * classifiers' {@link ClassifierTimesteps#TRAINED} {5, 10, 15, 20, 25, 49}; FLUX.1-schnell's is {1, 3}.
     * A fresh copy.
     */
    default int[] trainedTimesteps() {
        return ClassifierTimesteps.TRAINED.clone();
    }

    /**
     * The timestep index to embed at step {@code stepIndex} of a {@code totalSteps}-step schedule:
     * {@link ClassifierTimesteps#indexFor(int, int, int[], int)} with this classifier's
     * {@link #trainedTimesteps()} and {@link #timestepIndices()}.
     *
     * @throws IllegalArgumentException if the step is not in [0, totalSteps)
     */
    default int timestepIndexFor(int stepIndex, int totalSteps) {
        return ClassifierTimesteps.indexFor(stepIndex, totalSteps, trainedTimesteps(), timestepIndices());
    }

    /** Side of the square maps the classifier reads ({@code map_size}: 16 for the published classifiers). */
    default int mapSide() {
        return 16;
    }

    /**
     * Class logits. No gradient flows through it (a backend that steers with exact gradients uses
     * its own differentiable interface).
     *
     * @param maps [batch, 2 (subject, object), mapsPerWord, side, side] flattened, each map summing to 1
     * @param mapsPerWord maps per word in {@code maps}
     * @param timestepIndices one classifier timestep index per batch item
     * @return [batch, classes] flattened
     * @throws IllegalArgumentException when {@code maps} does not hold batch x 2 x mapsPerWord square maps
     */
    float[] logits(float[] maps, int mapsPerWord, long[] timestepIndices);

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
