package dev.steer.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.steer.core.relation.RelationClassifier;
import dev.steer.core.relation.RelationClassifierConfig;
import dev.steer.core.internal.weights.RelationClassifierWeights;
import dev.steer.onnx.internal.proto.OnnxDim;
import dev.steer.onnx.internal.proto.OnnxElementType;
import dev.steer.onnx.internal.proto.OnnxGraphBuilder;
import dev.steer.onnx.internal.proto.OnnxGraphBuilder.Attribute;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The published Learn-to-Steer relation classifier on ONNX Runtime: at load time an ONNX graph of
 * the published architecture is generated in Java from the checkpoint's weights (a published
 * {@code .pth}, or the library's safetensors + {@code config.json}, read by
 * {@link RelationClassifierWeights}) and handed to ONNX Runtime from memory; nothing is written to
 * disk and no PyTorch is involved.
 *
 * <p>The graph computes what the LibTorch backend's {@code PublishedRelationClassifier} computes
 * in evaluation mode (no dropout): the shared extractor on the subject's and the object's maps as
 * one batch (input projection, sinusoidal position encoding over the map index, pre-norm encoder
 * layers with the timestep embedding added before each, pooling by attention with one learnable
 * query, output projection), then the relation head (projection of the two pooled maps, position
 * encoding at index 0, pre-norm encoder layers, concatenated 16-wide timestep embedding, the MLP
 * with LayerNorm and LeakyReLU 0.1). Attention is written out of MatMul/Softmax nodes with the
 * queries scaled by 1/sqrt(head_dim), as torch does; LayerNorm epsilon 1e-5. Any number of maps
 * per word from 1 to {@code input_channels} is accepted (or exactly the pinned {@code maps_per_word}).
 *
 * <p>{@link #logits(float[], int, long[])}, the {@link RelationClassifier} contract, is its native
 * interface (Java arrays in and out; no gradient: steering on ONNX Runtime estimates gradients from
 * forward passes). Owns its session; close it. Not thread-safe.
 */
public final class OnnxRelationClassifier implements RelationClassifier {
    /** The default-domain opset of the generated graph (17: LayerNormalization). */
    static final int OPSET = 17;
    private static final float LN_EPS = 1e-5f;
    private static final float LEAKY_SLOPE = 0.1f;
    private static final String MAPS = "maps";
    private static final String TIMESTEP = "timestep";
    private static final String LOGITS = "logits";

    private final RelationClassifierConfig config;
    private final OnnxSession session;
    private final Path source;

    private OnnxRelationClassifier(RelationClassifierConfig config, OnnxSession session, Path source) {
        this.config = config;
        this.session = session;
        this.source = source;
    }

    /**
     * Loads a classifier: a published {@code .pth} checkpoint, a {@code .safetensors} file with its
     * sibling {@code config.json}, or a folder holding both.
     *
     * @throws dev.steer.core.weights.WeightsFormatException or {@link dev.steer.core.model.ModelConfigException}
     *     naming the file and the problem
     */
    public static OnnxRelationClassifier load(Path checkpoint) {
        return load(checkpoint, SessionSettings.DEFAULT);
    }

    static OnnxRelationClassifier load(Path checkpoint, SessionSettings settings) {
        return fromWeights(RelationClassifierWeights.load(checkpoint), settings);
    }

    /** Builds the graph from weights already read. */
    public static OnnxRelationClassifier fromWeights(RelationClassifierWeights weights) {
        return fromWeights(weights, SessionSettings.DEFAULT);
    }

    static OnnxRelationClassifier fromWeights(RelationClassifierWeights weights, SessionSettings settings) {
        byte[] graph = graph(weights);
        return new OnnxRelationClassifier(weights.config(), OnnxSession.openGenerated(weights.source(), graph, settings),
                weights.source());
    }

    /** The generated ONNX model's bytes for these weights (for inspection, or to save as a .onnx file). */
    public static byte[] graph(RelationClassifierWeights weights) {
        return new GraphWriter(weights).write();
    }

    /** The file or folder the weights came from. */
    public Path source() {
        return source;
    }

    /** The configuration. */
    public RelationClassifierConfig config() {
        return config;
    }

    @Override
    public List<String> classNames() {
        return config.relations();
    }

    /** The pinned number of maps per word, or else the most accepted ({@code input_channels}). */
    @Override
    public int mapsPerWord() {
        return config.mapsPerWord() > 0 ? config.mapsPerWord() : config.inputChannels();
    }

    @Override
    public int timestepIndices() {
        return config.numTimesteps();
    }

    /** The training timesteps of the checkpoint ({@code training_config.timesteps}), or the published SD ones. */
    @Override
    public int[] trainedTimesteps() {
        return config.trainedTimestepArray();
    }

    /**
     * Class logits.
     *
     * @param maps [batch, 2 (subject, object), mapsPerWord, map_size, map_size] flattened
     * @param mapsPerWord maps per word (1 to {@code input_channels}, or the pinned count)
     * @param timestepIndices one index in [0, num_timesteps) per batch item
     * @return [batch, classes] flattened
     * @throws IllegalArgumentException on sizes that do not fit or indices out of range
     */
    @Override
    public float[] logits(float[] maps, int mapsPerWord, long[] timestepIndices) {
        int batch = timestepIndices.length;
        int area = config.mapArea();
        if (batch < 1) {
            throw new IllegalArgumentException("at least one sample is needed");
        }
        if (config.mapsPerWord() > 0 && mapsPerWord != config.mapsPerWord()) {
            throw new IllegalArgumentException("expected " + config.mapsPerWord() + " maps per word, got " + mapsPerWord);
        }
        if (mapsPerWord < 1 || mapsPerWord > config.inputChannels()) {
            throw new IllegalArgumentException("expected 1 to " + config.inputChannels() + " maps per word (input_channels), got "
                    + mapsPerWord);
        }
        if ((long) batch * 2 * mapsPerWord * area != maps.length) {
            throw new IllegalArgumentException("maps must be [" + batch + ", 2, " + mapsPerWord + ", " + config.mapSize() + ", "
                    + config.mapSize() + "] (" + (long) batch * 2 * mapsPerWord * area + " values), got " + maps.length + " values");
        }
        for (long t : timestepIndices) {
            if (t < 0 || t >= config.numTimesteps()) {
                throw new IllegalArgumentException("timestep index " + t + " is outside [0, " + config.numTimesteps() + ")");
            }
        }
        List<OnnxTensor> owned = new ArrayList<>();
        try {
            Map<String, OnnxTensor> feed = new LinkedHashMap<>();
            OnnxTensor m = session.floatInput(MAPS, maps, new long[] {2L * batch, mapsPerWord, area});
            owned.add(m);
            feed.put(MAPS, m);
            OnnxTensor t = session.intInput(TIMESTEP, timestepIndices, new long[] {batch});
            owned.add(t);
            feed.put(TIMESTEP, t);
            try (OrtSession.Result r = session.run(feed, Set.of(LOGITS))) {
                return session.output(r, LOGITS).data();
            }
        } finally {
            OnnxSession.closeAll(owned);
        }
    }

    @Override
    public int mapSide() {
        return config.mapSize();
    }

    @Override
    public void close() {
        session.close();
    }

    /** Writes the graph of the published architecture. */
    private static final class GraphWriter {
        private final RelationClassifierWeights w;
        private final RelationClassifierConfig c;
        private final OnnxGraphBuilder g = new OnnxGraphBuilder("relation_classifier");
        private final int d;

        GraphWriter(RelationClassifierWeights weights) {
            this.w = weights;
            this.c = weights.config();
            this.d = c.dModel();
        }

        byte[] write() {
            int area = c.mapArea();
            String maps = g.input(MAPS, OnnxElementType.FLOAT, OnnxDim.symbolic("pairs"), OnnxDim.symbolic("maps_per_word"),
                    OnnxDim.fixed(area));
            String t = g.input(TIMESTEP, OnnxElementType.INT64, OnnxDim.symbolic("batch"));

            // ---- extractor, on [2B, N, area]: row 2b is sample b's subject, 2b+1 its object
            String e = "object_extractor.";
            String x = linear(maps, e + "input_projection");
            String n = g.node("Gather", List.of(g.node("Shape", List.of(maps)), g.longs(1)), Attribute.of("axis", 0L)); // [1] = N
            String pe = g.initializer(e + "positional_encoding.pe", w.floats(e + "positional_encoding.pe"), 1, c.inputChannels(), d);
            x = g.node("Add", List.of(x, g.node("Slice", List.of(pe, g.longs(0), n, g.longs(1)))));
            String tembTable = g.initializer(e + "timestep_embedding.weight", w.floats(e + "timestep_embedding.weight"),
                    c.numTimesteps(), d);
            String temb = g.node("Unsqueeze", List.of(g.node("Gather", List.of(tembTable, t), Attribute.of("axis", 0L)), g.longs(1)));
            // [B, 1, d] -> [B, 2, d] -> [2B, 1, d]: the same embedding for a sample's subject and object rows
            temb = g.node("Reshape", List.of(g.node("Concat", List.of(temb, temb), Attribute.of("axis", 1L)), g.longs(-1, 1, d)));
            for (int i = 0; i < c.extractor().numLayers(); i++) {
                x = encoderLayer(g.node("Add", List.of(x, temb)), e + "transformer.layers." + i + ".", c.extractor().nhead());
            }
            String query = g.initializer(e + "query_vector", w.floats(e + "query_vector"), 1, 1, d);
            String pooled = attention(query, x, e + "layer_attention.", c.extractor().layerAttnHeads());
            pooled = linear(pooled, e + "output_projection"); // [2B, 1, area]

            // ---- relation head, on [B, 1, 2 area]
            String h = "relation_classifier.";
            String y = linear(g.node("Reshape", List.of(pooled, g.longs(-1, 1, 2L * area))), h + "projection");
            float[] headPe = java.util.Arrays.copyOf(w.floats(h + "positional_encoding.pe"), d); // pe[:, :1]
            y = g.node("Add", List.of(y, g.initializer(h + "positional_encoding.pe[0]", headPe, 1, 1, d)));
            for (int i = 0; i < c.classifier().numLayers(); i++) {
                y = encoderLayer(y, h + "transformer.layers." + i + ".", c.classifier().nhead());
            }
            y = g.node("Reshape", List.of(y, g.longs(-1, d)));
            int te = c.classifier().timestepEmbeddingDim();
            String headTemb = g.node("Gather", List.of(g.initializer(h + "timestep_embedding.weight",
                    w.floats(h + "timestep_embedding.weight"), c.numTimesteps(), te), t), Attribute.of("axis", 0L));
            y = g.node("Concat", List.of(y, headTemb), Attribute.of("axis", 1L));
            y = g.node("LeakyRelu", List.of(layerNorm(linear(y, h + "fc.0"), h + "fc.1")), Attribute.of("alpha", LEAKY_SLOPE));
            y = g.node("LeakyRelu", List.of(layerNorm(linear(y, h + "fc.4"), h + "fc.5")), Attribute.of("alpha", LEAKY_SLOPE));
            y = linear(y, h + "fc.8");
            g.namedNode("Identity", LOGITS, List.of(y));
            g.output(LOGITS, OnnxElementType.FLOAT, OnnxDim.symbolic("batch"), OnnxDim.fixed(c.numClasses()));
            return g.build(OPSET, "steer");
        }

        /** torch Linear: x W^T + b, with W^T stored transposed. */
        private String linear(String x, String name) {
            float[] weight = w.floats(name + ".weight");
            long[] shape = w.tensors().get(name + ".weight").shape();
            return affine(x, name, weight, (int) shape[0], (int) shape[1], w.floats(name + ".bias"), 0);
        }

        /** x W[rows from..from+out]^T + b[from..]: one slice of a packed [k*out, in] projection. */
        private String affine(String x, String name, float[] weight, int out, int in, float[] bias, int from) {
            float[] wt = new float[in * out];
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    wt[i * out + o] = weight[(from + o) * in + i];
                }
            }
            String wName = g.initializer(g.fresh(name + ".weight^T"), wt, in, out);
            String bName = g.initializer(g.fresh(name + ".bias"), java.util.Arrays.copyOfRange(bias, from, from + out), out);
            return g.node("Add", List.of(g.node("MatMul", List.of(x, wName)), bName));
        }

        private String layerNorm(String x, String name) {
            String scale = g.initializer(g.fresh(name + ".weight"), w.floats(name + ".weight"), w.floats(name + ".weight").length);
            String bias = g.initializer(g.fresh(name + ".bias"), w.floats(name + ".bias"), w.floats(name + ".bias").length);
            return g.node("LayerNormalization", List.of(x, scale, bias), Attribute.of("axis", -1L), Attribute.of("epsilon", LN_EPS));
        }

        /** Pre-norm TransformerEncoderLayer (ReLU FFN): x + SA(norm1(x)), then h + FFN(norm2(h)). */
        private String encoderLayer(String x, String prefix, int heads) {
            String n1 = layerNorm(x, prefix + "norm1");
            String hdn = g.node("Add", List.of(x, attention(n1, n1, prefix + "self_attn.", heads)));
            String ff = g.node("Relu", List.of(linear(layerNorm(hdn, prefix + "norm2"), prefix + "linear1")));
            return g.node("Add", List.of(hdn, linear(ff, prefix + "linear2")));
        }

        /** torch MultiheadAttention (batch first) of {@code query} [Bq, Lq, d] over {@code keyValue} [B, L, d]. */
        private String attention(String query, String keyValue, String prefix, int heads) {
            float[] inW = w.floats(prefix + "in_proj_weight");
            float[] inB = w.floats(prefix + "in_proj_bias");
            long hd = d / heads;
            String q = affine(query, prefix + "q", inW, d, d, inB, 0);
            String k = affine(keyValue, prefix + "k", inW, d, d, inB, d);
            String v = affine(keyValue, prefix + "v", inW, d, d, inB, 2 * d);
            String split = g.longs(0, 0, heads, hd);
            String qh = g.node("Transpose", List.of(g.node("Reshape", List.of(q, split))), Attribute.ints("perm", 0, 2, 1, 3));
            qh = g.node("Mul", List.of(qh, g.scalar((float) (1.0 / Math.sqrt(hd)))));
            String kt = g.node("Transpose", List.of(g.node("Reshape", List.of(k, split))), Attribute.ints("perm", 0, 2, 3, 1));
            String vh = g.node("Transpose", List.of(g.node("Reshape", List.of(v, split))), Attribute.ints("perm", 0, 2, 1, 3));
            String probs = g.node("Softmax", List.of(g.node("MatMul", List.of(qh, kt))), Attribute.of("axis", -1L));
            String o = g.node("Transpose", List.of(g.node("MatMul", List.of(probs, vh))), Attribute.ints("perm", 0, 2, 1, 3));
            o = g.node("Reshape", List.of(o, g.longs(0, 0, d)));
            return linear(o, prefix + "out_proj");
        }
    }
}
