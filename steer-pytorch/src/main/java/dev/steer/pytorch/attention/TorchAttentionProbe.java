package dev.steer.pytorch.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.pytorch.internal.nn.OwnedTensors;
import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.internal.attention.BilinearResize;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.pytorch.flux.JointAttentionHook;
import dev.steer.pytorch.unet.CrossAttentionHook;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The {@link AttentionProbe} of the LibTorch backend: keeps, differentiably, the cross-attention
 * maps of chosen words and builds the relation classifier's input in the reference layout (per
 * word: resolution ascending, then layer in execution order, then head; each word's tokens
 * averaged; bilinear resize to {@value #MAP_SIZE}x{@value #MAP_SIZE}, align_corners false;
 * renormalised to sum 1 with +1e-8 in the denominator).
 *
 * <p>Use {@link #asHook(int)} to attach it to a UNet call; the arrays it keeps live in the scope of
 * that call's inputs, so {@link #clear()} it (or let the scope close) between calls. A backend that
 * closes that scope before the engine reads the maps calls {@link #classifierMaps()} first: the
 * copy it makes stays valid until {@link #clear()}.
 */
public final class TorchAttentionProbe implements AttentionProbe<NDArray> {
    private final List<int[]> words;
    private final Predicate<CrossAttentionLayer> layerFilter;
    private final int mapSide;
    private final boolean renormaliseUnresized;
    private final List<Entry> entries = new ArrayList<>();
    private float[] copied;

    private record Entry(CrossAttentionLayer layer, int pixels, NDArray maps) {
    }

    /** A probe over every cross-attention layer. */
    public TorchAttentionProbe(List<int[]> wordTokenPositions) {
        this(wordTokenPositions, layer -> true);
    }

    /** A probe over the layers accepted by {@code layerFilter}. */
    public TorchAttentionProbe(List<int[]> wordTokenPositions, Predicate<CrossAttentionLayer> layerFilter) {
        this(wordTokenPositions, layerFilter, MAP_SIZE, true);
    }

    /**
     * A probe over every layer with the maps' side and normalisation of a model family: the UNet
     * reference renormalises every map; the FLUX reference only the maps it resized (maps already
     * of the classifier's side stay the raw probabilities).
     *
     * @param mapSide side of the maps the classifier reads
     * @param renormaliseUnresized whether maps already {@code mapSide} wide are renormalised too
     */
    public TorchAttentionProbe(List<int[]> wordTokenPositions, int mapSide, boolean renormaliseUnresized) {
        this(wordTokenPositions, layer -> true, mapSide, renormaliseUnresized);
    }

    private TorchAttentionProbe(List<int[]> wordTokenPositions, Predicate<CrossAttentionLayer> layerFilter, int mapSide,
            boolean renormaliseUnresized) {
        if (mapSide < 1) {
            throw new IllegalArgumentException("map side must be positive, got " + mapSide);
        }
        this.mapSide = mapSide;
        this.renormaliseUnresized = renormaliseUnresized;
        if (wordTokenPositions.isEmpty()) {
            throw new IllegalArgumentException("a probe needs at least one word");
        }
        for (int[] w : wordTokenPositions) {
            if (w.length == 0) {
                throw new IllegalArgumentException("a word must have at least one token position");
            }
        }
        this.words = List.copyOf(wordTokenPositions);
        this.layerFilter = layerFilter;
    }

    /** A probe over the layers with these execution-order indices. */
    public static TorchAttentionProbe ofLayers(List<int[]> wordTokenPositions, Set<Integer> layerIndices) {
        return new TorchAttentionProbe(wordTokenPositions, layer -> layerIndices.contains(layer.index()));
    }

    @Override
    public List<int[]> wordTokenPositions() {
        return words;
    }

    @Override
    public boolean wants(CrossAttentionLayer layer) {
        return layerFilter.test(layer);
    }

    /**
     * Adapts this probe to a UNet hook, taking batch row {@code conditionalRow} of each layer's
     * probabilities (0 when the UNet runs on the conditional prompt alone, 1 for the [uncond, cond]
     * batch of classifier-free guidance).
     */
    public CrossAttentionHook asHook(int conditionalRow) {
        return (layer, height, width, probabilities) -> {
            if (wants(layer)) {
                onCrossAttention(layer, height, width, probabilities.get(conditionalRow));
            }
        };
    }

    /**
     * Adapts this probe to a FLUX transformer call, reading batch row {@code row} of each block's joint
     * attention as the published FLUX attention processor does: for the image rows, the softmax over
     * the text columns only. That equals the joint probabilities of the word's columns divided by the
     * row's total over text columns, so only the asked columns and one total per row are formed: the
     * [heads, image tokens, text tokens] maps are never materialised.
     */
    public JointAttentionHook asJointHook(int row) {
        return (layer, textTokens, gridHeight, gridWidth, probabilities, call) -> {
            if (!wants(layer)) {
                return;
            }
            NDArray p = probabilities.get(row); // [heads, T + N, T + N]
            NDManager scope = p.getManager();
            NDArray textTotal = p.get(":, {}:, :{}", textTokens, textTokens).sum(new int[] {2}, true); // [heads, N, 1]
            List<NDArray> perWord = new ArrayList<>();
            for (int[] positions : words) {
                checkPositions(positions, textTokens);
                NDArray columns = p.get(":, {}:, {}", textTokens, OwnedTensors.indices(scope, positions)); // [heads, N, k]
                perWord.add(columns.div(textTotal).mean(new int[] {2}));
            }
            onWordMaps(layer, gridHeight, gridWidth, perWord);
            entries.get(entries.size() - 1).maps().attach(call); // the block's scope closes before the maps are read
        };
    }

    @Override
    public void onCrossAttention(CrossAttentionLayer layer, int height, int width, NDArray probabilities) {
        Shape s = probabilities.getShape();
        if (s.dimension() != 3 || s.get(1) != (long) height * width) {
            throw new IllegalArgumentException("expected [heads, " + height * width + ", tokens] probabilities, got " + s);
        }
        long tokens = s.get(2);
        NDManager scope = probabilities.getManager();
        List<NDArray> perWord = new ArrayList<>();
        for (int[] positions : words) {
            checkPositions(positions, tokens);
            perWord.add(probabilities.get(":, :, {}", OwnedTensors.indices(scope, positions)).mean(new int[] {2})); // [heads, pixels]
        }
        onWordMaps(layer, height, width, perWord);
    }

    /** Fails on a token position outside the context. */
    public static void checkPositions(int[] positions, long tokens) {
        for (int p : positions) {
            if (p < 0 || p >= tokens) {
                throw new IllegalArgumentException("token position " + p + " outside the " + tokens + " context tokens");
            }
        }
    }

    /**
     * Adds one layer's maps given per word as [heads, height * width], each word's tokens already
     * averaged: resized (bilinear, align_corners false) to the map side when needed and renormalised
     * to sum 1 (+1e-8 in the denominator) per this probe's rule.
     */
    public void onWordMaps(CrossAttentionLayer layer, int height, int width, List<NDArray> wordMaps) {
        if (wordMaps.size() != words.size()) {
            throw new IllegalArgumentException(wordMaps.size() + " word maps for a probe of " + words.size() + " words");
        }
        List<NDArray> perWord = new ArrayList<>();
        for (NDArray word : wordMaps) {
            // maps and the classifier are float32 whatever the denoiser computes in
            NDArray mean = word.getDataType() == ai.djl.ndarray.types.DataType.FLOAT32 ? word
                    : word.toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
            long heads = mean.getShape().get(0);
            NDArray grid = mean.reshape(1, heads, height, width);
            boolean resize = height != mapSide || width != mapSide;
            if (resize) {
                grid = resize(grid.reshape(heads, height, width), height, width);
            }
            grid = grid.reshape(heads, (long) mapSide * mapSide);
            if (resize || renormaliseUnresized) {
                grid = grid.div(grid.sum(new int[] {1}, true).add(1e-8f));
            }
            perWord.add(grid.reshape(heads, mapSide, mapSide));
        }
        copied = null;
        entries.add(new Entry(layer, height * width, NDArrays.stack(new NDList(perWord), 0))); // [words, heads, side, side]
    }

    /**
     * Bilinear resize of [heads, h, w] to the map side as the reference does (no antialiasing: DJL's
     * own interpolation antialiases when downsampling), as two differentiable matrix products.
     */
    private NDArray resize(NDArray maps, int height, int width) {
        NDManager scope = maps.getManager();
        // LibTorch's copies: the block's scope closes before the backward pass that needs them
        NDArray rows = OwnedTensors.of(scope, BilinearResize.matrix(height, mapSide), new Shape(mapSide, height));
        NDArray columns = OwnedTensors.of(scope, BilinearResize.matrix(width, mapSide), new Shape(mapSide, width)).transpose();
        return rows.matMul(maps).matMul(columns);
    }

    @Override
    public NDArray classifierInput() {
        if (entries.isEmpty()) {
            throw new IllegalStateException("no cross-attention layer was observed: attach the probe to a UNet call first");
        }
        List<Entry> ordered = new ArrayList<>(entries);
        // stable sort: execution order is kept inside a resolution
        ordered.sort(Comparator.comparingInt(Entry::pixels));
        if (ordered.size() == 1) {
            // DJL's concat of a single array returns a copy detached from the autograd graph
            return ordered.get(0).maps();
        }
        NDList parts = new NDList();
        for (Entry e : ordered) {
            parts.add(e.maps());
        }
        return NDArrays.concat(parts, 1);
    }

    @Override
    public float[] classifierMaps() {
        if (copied == null) {
            copied = classifierInput().toFloatArray();
        }
        return copied;
    }

    @Override
    public int mapCount() {
        int n = 0;
        for (Entry e : entries) {
            n += (int) e.maps().getShape().get(1);
        }
        return n;
    }

    @Override
    public void clear() {
        entries.clear();
        copied = null;
    }
}
