package dev.steer.core.attention;

import java.util.List;

/**
 * Watches a denoiser call's cross-attention layers and keeps the maps of chosen token positions,
 * producing the relation classifier's input in the reference layout: per word, maps ordered by
 * resolution ascending, then layer in execution order, then head; each bilinearly resized to
 * {@value #MAP_SIZE}x{@value #MAP_SIZE} and renormalised to sum 1; a word of several tokens
 * averages its tokens' maps.
 *
 * <p>A backend's denoiser call feeds it every layer it {@link #wants}, with the probed batch item's
 * probabilities only. A generation without a probe keeps no attention tensors. Each backend
 * implements it over its own arrays {@code A} (differentiable LibTorch arrays, or ONNX Runtime's
 * outputs as Java arrays); the generation engine only uses the array-independent methods and
 * {@link #classifierMaps()}.
 *
 * @param <A> the backend's array type (probabilities in, classifier input out)
 */
public interface AttentionProbe<A> {
    /** Side of the maps the published classifiers read. */
    int MAP_SIZE = 16;

    /**
     * How much the two words of a classifier input attend to the same place: per map pair (same
     * layer and head), the histogram intersection {@code sum min(subject, object)} of the two
     * sum-1 maps, averaged over the pairs. 1 when both words look at the same pixels (for example,
     * both at one drawn object), 0 when they look at disjoint regions.
     *
     * @param classifierInput [2, N, side, side] flattened: the subject's N maps, then the object's
     * @param side the maps' side
     */
    static float wordOverlap(float[] classifierInput, int side) {
        int pixels = side * side;
        if (classifierInput.length == 0 || classifierInput.length % (2 * pixels) != 0) {
            throw new IllegalArgumentException("a classifier input of " + classifierInput.length + " values is not two words' "
                    + side + "x" + side + " maps");
        }
        int half = classifierInput.length / 2;
        double total = 0;
        for (int i = 0; i < half; i++) {
            total += Math.min(classifierInput[i], classifierInput[half + i]);
        }
        return (float) (total / (half / pixels));
    }

    /** The token positions of each word, in order (subject first, then object). */
    List<int[]> wordTokenPositions();

    /** Whether this layer's maps are wanted (all layers by default). */
    default boolean wants(CrossAttentionLayer layer) {
        return true;
    }

    /**
     * Receives one layer's cross-attention probabilities.
     *
     * @param probabilities [heads, height * width, tokens] for the probed batch item, pixels row-major
     */
    void onCrossAttention(CrossAttentionLayer layer, int height, int width, A probabilities);

    /** The collected maps as [words, maps, 16, 16] in the backend's arrays; fails if no layer was observed. */
    A classifierInput();

    /**
     * The collected maps as [words, maps, 16, 16] flattened into a Java array. Backends whose arrays
     * live only as long as the denoiser call copy them before the call returns, so this stays valid
     * until {@link #clear()}.
     *
     * @throws IllegalStateException if no layer was observed
     */
    float[] classifierMaps();

    /** Number of maps per word collected so far. */
    int mapCount();

    /** Forgets what was collected (before the next denoiser call). */
    void clear();

    /** Maps per word a denoiser with these probed layers produces (the sum of their heads). */
    static int mapsPerWord(List<CrossAttentionLayer> layers) {
        int maps = 0;
        for (CrossAttentionLayer layer : layers) {
            maps += layer.heads();
        }
        return maps;
    }
}
