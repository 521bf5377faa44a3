package dev.steer.onnx.steering;

import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.internal.attention.BilinearResize;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.onnx.CrossAttentionOutput;
import dev.steer.onnx.FloatTensor;
import dev.steer.onnx.UNetOutput;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;

/**
 * The {@link AttentionProbe} of the ONNX Runtime backend: the relation classifier's input built in
 * pure Java from the cross-attention probabilities that ONNX Runtime returns, with the same math as
 * the LibTorch backend's {@code TorchAttentionProbe}:
 *
 * <ul>
 *   <li>per word, the mean of its token positions' probabilities, per layer and head;</li>
 *   <li>each map bilinearly resized to {@value #MAP_SIZE}x{@value #MAP_SIZE} as torch's
 *       {@code interpolate(mode="bilinear", align_corners=False)} does (no antialiasing; a map
 *       already 16x16 is kept as is);</li>
 *   <li>renormalised to sum 1 with +1e-8 in the denominator;</li>
 *   <li>ordered by resolution ascending (fewest pixels first), then layer in execution order,
 *       then head.</li>
 * </ul>
 *
 * <p>Feed it layers with {@link #onCrossAttention} (one batch item's probabilities), or take one
 * item of a whole UNet call with {@link #collect(UNetOutput, int)}; read
 * {@link #classifierMaps()} as [words, maps, 16, 16] flattened. A probe made by
 * {@link #onTokenColumns} reads UNet outputs that carry only its words' token columns
 * ({@link #tokenColumns()}), so ONNX Runtime never returns the other tokens' probabilities. Not
 * thread-safe.
 */
public final class OnnxAttentionProbe implements AttentionProbe<FloatTensor> {
    private static final int AREA = MAP_SIZE * MAP_SIZE;

    private final List<int[]> words;
    private final int[] tokenColumns;
    private final Predicate<CrossAttentionLayer> layerFilter;
    private final List<Entry> entries = new ArrayList<>();

    /** One observed layer: per word, heads x 16 x 16 values. */
    private record Entry(CrossAttentionLayer layer, int pixels, int heads, float[][] perWord) {
    }

    /** A probe over every cross-attention layer. */
    public OnnxAttentionProbe(List<int[]> wordTokenPositions) {
        this(wordTokenPositions, layer -> true);
    }

    /** A probe over the layers accepted by {@code layerFilter}. */
    public OnnxAttentionProbe(List<int[]> wordTokenPositions, Predicate<CrossAttentionLayer> layerFilter) {
        this(wordTokenPositions, layerFilter, null);
    }

    /**
     * A probe over every layer for UNet calls that fetch only the words' token columns: its
     * {@link #tokenColumns()} are the distinct positions of all words in order, and its words'
     * positions are indices into them.
     */
    public static OnnxAttentionProbe onTokenColumns(List<int[]> wordTokenPositions) {
        int[] columns = wordTokenPositions.stream().flatMapToInt(java.util.Arrays::stream).distinct().toArray();
        List<int[]> remapped = new ArrayList<>();
        for (int[] w : wordTokenPositions) {
            int[] r = new int[w.length];
            for (int i = 0; i < w.length; i++) {
                for (int k = 0; k < columns.length; k++) {
                    if (columns[k] == w[i]) {
                        r[i] = k;
                    }
                }
            }
            remapped.add(r);
        }
        return new OnnxAttentionProbe(remapped, layer -> true, columns);
    }

    private OnnxAttentionProbe(List<int[]> wordTokenPositions, Predicate<CrossAttentionLayer> layerFilter, int[] tokenColumns) {
        if (wordTokenPositions.isEmpty()) {
            throw new IllegalArgumentException("a probe needs at least one word");
        }
        List<int[]> copy = new ArrayList<>();
        for (int[] w : wordTokenPositions) {
            if (w.length == 0) {
                throw new IllegalArgumentException("a word must have at least one token position");
            }
            copy.add(w.clone());
        }
        this.words = List.copyOf(copy);
        this.layerFilter = layerFilter;
        this.tokenColumns = tokenColumns;
    }

    /** The context positions a UNet call must fetch for this probe, or null when it reads all of them. */
    public int[] tokenColumns() {
        return tokenColumns == null ? null : tokenColumns.clone();
    }

    @Override
    public List<int[]> wordTokenPositions() {
        List<int[]> out = new ArrayList<>();
        for (int[] w : words) {
            out.add(w.clone());
        }
        return out;
    }

    @Override
    public boolean wants(CrossAttentionLayer layer) {
        return layerFilter.test(layer);
    }

    /**
     * Receives one layer's probabilities for one batch item.
     *
     * @param probabilities [heads, height * width, tokens] flattened, pixels row-major
     * @param offset where the item starts in {@code probabilities}
     */
    public void onCrossAttention(CrossAttentionLayer layer, int height, int width, int heads, int tokens, float[] probabilities,
            int offset) {
        int pixels = height * width;
        if (offset < 0 || (long) offset + (long) heads * pixels * tokens > probabilities.length) {
            throw new IllegalArgumentException("expected " + heads + " x " + pixels + " x " + tokens + " probabilities at offset " + offset
                    + ", the array holds " + probabilities.length);
        }
        float[][] perWord = new float[words.size()][];
        float[] mean = new float[pixels];
        for (int w = 0; w < words.size(); w++) {
            int[] positions = words.get(w);
            for (int p : positions) {
                if (p < 0 || p >= tokens) {
                    throw new IllegalArgumentException("token position " + p + " outside the " + tokens + " context tokens");
                }
            }
            float[] out = new float[heads * AREA];
            for (int h = 0; h < heads; h++) {
                int base = offset + h * pixels * tokens;
                for (int px = 0; px < pixels; px++) {
                    int row = base + px * tokens;
                    float s = 0;
                    for (int p : positions) {
                        s += probabilities[row + p];
                    }
                    mean[px] = s / positions.length;
                }
                float[] grid = height == MAP_SIZE && width == MAP_SIZE ? mean : BilinearResize.resize(mean, height, width, MAP_SIZE, MAP_SIZE);
                float sum = 0;
                for (int i = 0; i < AREA; i++) {
                    sum += grid[i];
                }
                float denom = sum + 1e-8f;
                for (int i = 0; i < AREA; i++) {
                    out[h * AREA + i] = grid[i] / denom;
                }
            }
            perWord[w] = out;
        }
        entries.add(new Entry(layer, pixels, heads, perWord));
    }

    /**
     * Receives one layer's probabilities for one batch item.
     *
     * @param probabilities [heads, height * width, tokens]
     */
    @Override
    public void onCrossAttention(CrossAttentionLayer layer, int height, int width, FloatTensor probabilities) {
        if (probabilities.rank() != 3 || probabilities.dim(1) != height * width) {
            throw new IllegalArgumentException("expected [heads, " + height * width + ", tokens] probabilities, got "
                    + java.util.Arrays.toString(probabilities.shape()));
        }
        onCrossAttention(layer, height, width, probabilities.dim(0), probabilities.dim(2), probabilities.data(), 0);
    }

    /** Observes every wanted layer of a UNet call's batch item {@code item}. */
    public OnnxAttentionProbe collect(UNetOutput output, int item) {
        for (CrossAttentionOutput a : output.attention()) {
            if (!wants(a.layer())) {
                continue;
            }
            int batch = a.probabilities().dim(0);
            if (item < 0 || item >= batch) {
                throw new IllegalArgumentException("item " + item + " outside the batch of " + batch);
            }
            int heads = a.probabilities().dim(1);
            int tokens = a.probabilities().dim(3);
            int per = a.probabilities().size() / batch;
            onCrossAttention(a.layer(), a.height(), a.width(), heads, tokens, a.probabilities().data(), item * per);
        }
        return this;
    }

    /** The collected maps as a [words, maps, 16, 16] tensor. */
    @Override
    public FloatTensor classifierInput() {
        return FloatTensor.of(classifierMaps(), words.size(), mapCount(), MAP_SIZE, MAP_SIZE);
    }

    /**
     * The collected maps as [words, maps, 16, 16] flattened (the classifier's [2, N, 16, 16] for a
     * subject and an object).
     *
     * @throws IllegalStateException if no layer was observed
     */
    @Override
    public float[] classifierMaps() {
        if (entries.isEmpty()) {
            throw new IllegalStateException("no cross-attention layer was observed: collect a UNet call's attention first");
        }
        List<Entry> ordered = new ArrayList<>(entries);
        ordered.sort(Comparator.comparingInt(Entry::pixels)); // stable: execution order kept inside a resolution
        int n = mapCount();
        float[] out = new float[words.size() * n * AREA];
        for (int w = 0; w < words.size(); w++) {
            int at = w * n * AREA;
            for (Entry e : ordered) {
                float[] src = e.perWord()[w];
                System.arraycopy(src, 0, out, at, src.length);
                at += src.length;
            }
        }
        return out;
    }

    /** Number of maps per word collected so far (the sum of the observed layers' heads). */
    @Override
    public int mapCount() {
        int n = 0;
        for (Entry e : entries) {
            n += e.heads();
        }
        return n;
    }

    /** Forgets what was collected. */
    @Override
    public void clear() {
        entries.clear();
    }
}
