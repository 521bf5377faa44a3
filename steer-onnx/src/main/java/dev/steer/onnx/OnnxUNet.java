package dev.steer.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.model.ModelConfigException;
import dev.steer.onnx.internal.proto.GraphEdit;
import dev.steer.onnx.internal.proto.OnnxDim;
import dev.steer.onnx.internal.proto.OnnxElementType;
import dev.steer.onnx.internal.proto.OnnxGraphBuilder;
import dev.steer.onnx.internal.proto.OnnxModelProto;
import dev.steer.onnx.internal.proto.OnnxValueInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A Stable Diffusion UNet ({@code unet/model.onnx} of an Optimum / torch.onnx export: inputs
 * {@code sample}, {@code timestep}, {@code encoder_hidden_states}) on ONNX Runtime, with its
 * cross-attention probabilities available as outputs.
 *
 * <p>At load time the graph is rewritten in memory (the file and its external weights are left
 * untouched): the Softmax output of each {@code attn2} module becomes an extra graph output, and
 * fixed spatial sizes of {@code sample} and the output are made symbolic so one export serves every
 * resolution its operators allow. A call fetches only the outputs it needs, so a call without
 * attention costs what the plain export costs. Any batch size is accepted in one call (e.g. the CFG
 * pair, or several perturbed latents), with per-item timesteps and a context of batch 1 broadcast.
 *
 * <p>For steering, {@link #forward(FloatTensor, float[], FloatTensor, Predicate, int[])} fetches only
 * chosen token columns of the probabilities: the rewrite also adds, per layer, a Gather on the token
 * axis driven by an extra int64 input {@value #TOKENS_INPUT} (fed [0] by the other calls, which
 * do not fetch the selected outputs), which cuts what ONNX Runtime copies out by the ratio of the
 * context length to the number of tokens read (77 to about 3 for a subject and an object).
 *
 * <p>The cross-attention layers ({@link #crossAttentionLayers()}) are listed in execution order;
 * their head counts and downscales are read from the shapes of the first outputs fetched (or from a
 * small calibration call at the smallest size the UNet accepts, when asked before any such call).
 * Owns its session; close it. Not thread-safe.
 */
public final class OnnxUNet implements AutoCloseable {
    private static final List<String> TIMESTEP_NAMES = List.of("timestep", "timesteps", "t");
    /** The added graph input selecting token columns of the attention outputs. */
    public static final String TOKENS_INPUT = "steer_attention_tokens";
    private static final String SELECTED_SUFFIX = "/steer_selected_tokens";

    private final OnnxSession session;
    private final String sampleName;
    private final String timestepName;
    private final String contextName;
    private final String outputName;
    private final List<CrossAttentionTaps.Tap> taps;
    private final int downsampleFactor;
    private final int[] exportSize;
    private final int timestepRank;
    private final long timestepFixedLength;
    private final long parameterCount;
    private volatile List<CrossAttentionLayer> layers;

    private OnnxUNet(OnnxSession session, String sampleName, String timestepName, String contextName, String outputName,
            List<CrossAttentionTaps.Tap> taps, int downsampleFactor, long parameterCount) {
        this.parameterCount = parameterCount;
        this.session = session;
        this.sampleName = sampleName;
        this.timestepName = timestepName;
        this.contextName = contextName;
        this.outputName = outputName;
        this.taps = taps;
        this.downsampleFactor = downsampleFactor;
        this.exportSize = GraphInspection.fixedSpatialSize(session.declaredInputs().get(sampleName));
        OnnxValueInfo t = session.declaredInputs().get(timestepName);
        this.timestepRank = t == null ? 1 : Math.max(t.rank(), t.rank() < 0 ? 1 : 0);
        this.timestepFixedLength = GraphInspection.fixedDim(t, 0);
    }

    /**
     * Loads and rewrites a UNet graph.
     *
     * @throws ModelConfigException naming the file when it is missing, not an ONNX model, lacks the
     *     expected inputs, has fused or unidentifiable cross-attention, or misses external data
     */
    public static OnnxUNet load(Path file) {
        return load(file, SessionSettings.DEFAULT);
    }

    static OnnxUNet load(Path file, SessionSettings settings) {
        OnnxModelProto model = OnnxSession.parse(file, "UNet");
        Map<String, OnnxValueInfo> inputs = new LinkedHashMap<>();
        for (OnnxValueInfo v : model.inputs()) {
            inputs.put(v.name(), v);
        }
        String timestep = TIMESTEP_NAMES.stream().filter(inputs::containsKey).findFirst().orElse(null);
        if (!inputs.containsKey("sample") || timestep == null || !inputs.containsKey("encoder_hidden_states")) {
            throw new ModelConfigException(file, "a Stable Diffusion UNet graph has inputs sample, timestep and encoder_hidden_states; "
                    + "this one has " + inputs.keySet());
        }
        Set<String> extra = new LinkedHashSet<>(inputs.keySet());
        extra.removeAll(List.of("sample", timestep, "encoder_hidden_states"));
        if (!extra.isEmpty()) {
            throw new ModelConfigException(file, "unsupported extra UNet inputs " + extra + " (SDXL-style added conditioning "
                    + "is not supported; Stable Diffusion 1.x/2.x UNets take sample, timestep, encoder_hidden_states)");
        }
        if (model.outputs().isEmpty()) {
            throw new ModelConfigException(file, "the graph declares no outputs");
        }
        List<CrossAttentionTaps.Tap> taps = CrossAttentionTaps.find(file, model);
        GraphEdit edit = GraphInspection.relaxSpatialSizes(model, new GraphEdit());
        for (CrossAttentionTaps.Tap tap : taps) {
            edit.addOutput(new OnnxValueInfo(tap.valueName(), 0, null));
        }
        edit.addInput(new OnnxValueInfo(TOKENS_INPUT, OnnxElementType.INT64, List.of(OnnxDim.symbolic("selected_tokens"))));
        for (CrossAttentionTaps.Tap tap : taps) {
            String selected = tap.valueName() + SELECTED_SUFFIX;
            edit.addNode(selected, "Gather", List.of(tap.valueName(), TOKENS_INPUT), List.of(selected),
                    OnnxGraphBuilder.Attribute.of("axis", -1L));
            edit.addOutput(new OnnxValueInfo(selected, 0, null));
        }
        int downs = GraphInspection.countStages(model, "down_blocks", "downsamplers");
        OnnxSession session = OnnxSession.open(file, model, edit, settings);
        long params = 0;
        for (var init : model.initializers()) {
            long n = 1;
            for (long d : init.dims()) {
                n *= d;
            }
            params += n;
        }
        return new OnnxUNet(session, "sample", timestep, "encoder_hidden_states", model.outputs().get(0).name(), taps, 1 << downs, params);
    }

    /** The graph file. */
    public Path file() {
        return session.file();
    }

    /** Number of weights (elements of the graph's initializers). */
    public long parameterCount() {
        return parameterCount;
    }

    /** How many times the UNet halves the latent (latent sizes must be multiples of it). */
    public int downsampleFactor() {
        return downsampleFactor;
    }

    /** The latent size [height, width] the graph was exported with, or null when it declares none. */
    public int[] exportLatentSize() {
        return exportSize == null ? null : exportSize.clone();
    }

    /** The latent channels (declared dimension 1 of {@code sample}; 4 when not declared). */
    public int inChannels() {
        long c = GraphInspection.fixedDim(session.declaredInputs().get(sampleName), 1);
        return c > 0 ? (int) c : 4;
    }

    /** The text embedding width the UNet expects (declared last dimension of its context), or -1. */
    public int crossAttentionDim() {
        return (int) GraphInspection.fixedDim(session.declaredInputs().get(contextName), -1);
    }

    /** The names of the cross-attention modules found, in execution order. */
    public List<String> crossAttentionModules() {
        return taps.stream().map(CrossAttentionTaps.Tap::module).toList();
    }

    /**
     * The cross-attention layers in execution order, with heads and downscale. Known after the first
     * call that fetched attention; before that, one small calibration call is made.
     */
    public List<CrossAttentionLayer> crossAttentionLayers() {
        List<CrossAttentionLayer> l = layers;
        if (l == null) {
            calibrate();
            l = layers;
        }
        return l;
    }

    private void calibrate() {
        int channels = inChannels();
        int h;
        int w;
        if (exportSize != null) {
            h = exportSize[0];
            w = exportSize[1];
        } else {
            h = Math.max(8, downsampleFactor);
            w = h;
        }
        int dim = crossAttentionDim();
        if (dim <= 0) {
            throw new IllegalStateException(file() + ": the context width is not declared; make one UNet call with attention before "
                    + "asking for the layers");
        }
        long seq = GraphInspection.fixedDim(session.declaredInputs().get(contextName), 1);
        int tokens = seq > 0 ? (int) seq : 77;
        FloatTensor sample = FloatTensor.of(new float[channels * h * w], 1, channels, h, w);
        FloatTensor context = FloatTensor.of(new float[tokens * dim], 1, tokens, dim);
        forward(sample, new float[] {500f}, context, layer -> true, true);
    }

    /** One call without attention outputs. */
    public UNetOutput forward(FloatTensor sample, float[] timesteps, FloatTensor context) {
        return forward(sample, timesteps, context, null, false);
    }

    /**
     * One call.
     *
     * @param sample the (scaled) latents [batch, channels, height, width]
     * @param timesteps one timestep for the whole batch, or one per item (rounded if the graph takes integers)
     * @param context text embeddings [batch or 1, tokens, dim] (batch 1 is used for every item)
     * @param attention which cross-attention layers to fetch, or null for none
     * @throws IllegalArgumentException for inconsistent shapes
     * @throws OnnxExecutionException if ONNX Runtime fails (e.g. a size the export cannot take)
     */
    public UNetOutput forward(FloatTensor sample, float[] timesteps, FloatTensor context, Predicate<CrossAttentionLayer> attention) {
        return forward(sample, timesteps, context, attention, false, null);
    }

    /**
     * One call fetching only some token columns of the cross-attention probabilities.
     *
     * @param attention which cross-attention layers to fetch
     * @param tokens the context positions to keep, in this order: the returned probabilities are
     *     [batch, heads, pixels, tokens.length], column k holding token {@code tokens[k]}
     * @throws IllegalArgumentException for inconsistent shapes or a position outside the context
     */
    public UNetOutput forward(FloatTensor sample, float[] timesteps, FloatTensor context, Predicate<CrossAttentionLayer> attention,
            int[] tokens) {
        java.util.Objects.requireNonNull(attention, "attention");
        if (tokens.length == 0) {
            throw new IllegalArgumentException("select at least one token");
        }
        for (int t : tokens) {
            if (t < 0 || t >= context.dim(1)) {
                throw new IllegalArgumentException("token position " + t + " outside the " + context.dim(1) + " context tokens");
            }
        }
        return forward(sample, timesteps, context, attention, false, tokens);
    }

    private UNetOutput forward(FloatTensor sample, float[] timesteps, FloatTensor context, Predicate<CrossAttentionLayer> attention,
            boolean all) {
        return forward(sample, timesteps, context, attention, all, null);
    }

    private UNetOutput forward(FloatTensor sample, float[] timesteps, FloatTensor context, Predicate<CrossAttentionLayer> attention,
            boolean all, int[] tokens) {
        if (sample.rank() != 4) {
            throw new IllegalArgumentException("sample must be [batch, channels, height, width], got " + Arrays.toString(sample.shape()));
        }
        int batch = sample.dim(0);
        int h = sample.dim(2);
        int w = sample.dim(3);
        if (timesteps.length != 1 && timesteps.length != batch) {
            throw new IllegalArgumentException("need 1 or " + batch + " timesteps, got " + timesteps.length);
        }
        if (context.rank() != 3 || (context.dim(0) != 1 && context.dim(0) != batch)) {
            throw new IllegalArgumentException("context must be [" + batch + " or 1, tokens, dim], got " + Arrays.toString(context.shape()));
        }
        Set<String> fetch = new LinkedHashSet<>();
        fetch.add(outputName);
        List<Integer> wanted = new ArrayList<>();
        if (attention != null) {
            List<CrossAttentionLayer> known = all ? null : crossAttentionLayers();
            for (int i = 0; i < taps.size(); i++) {
                if (known == null || attention.test(known.get(i))) {
                    wanted.add(i);
                    fetch.add(valueOf(i, tokens));
                }
            }
        }
        List<OnnxTensor> inputs = new ArrayList<>();
        try {
            Map<String, OnnxTensor> feed = new LinkedHashMap<>();
            feed.put(sampleName, add(inputs, session.floatInput(sampleName, sample.data(), sample.shape())));
            feed.put(timestepName, add(inputs, timestepTensor(timesteps, batch)));
            FloatTensor ctx = context.dim(0) == batch ? context : repeat(context, batch);
            feed.put(contextName, add(inputs, session.floatInput(contextName, ctx.data(), ctx.shape())));
            long[] t = tokens == null ? new long[] {0} : Arrays.stream(tokens).asLongStream().toArray();
            feed.put(TOKENS_INPUT, add(inputs, session.int64Input(TOKENS_INPUT, t)));
            try (OrtSession.Result result = runChecked(feed, fetch, h, w)) {
                FloatTensor noise = session.output(result, outputName);
                if (wanted.isEmpty()) {
                    return new UNetOutput(noise, List.of());
                }
                List<FloatTensor> probs = new ArrayList<>();
                for (int i : wanted) {
                    probs.add(session.output(result, valueOf(i, tokens)));
                }
                List<CrossAttentionLayer> l = layers;
                if (l == null && wanted.size() == taps.size()) {
                    l = layersFrom(probs, batch, h, w);
                    layers = l;
                }
                List<CrossAttentionOutput> out = new ArrayList<>();
                for (int k = 0; k < wanted.size(); k++) {
                    out.add(toOutput(l.get(wanted.get(k)), probs.get(k), batch, h, w));
                }
                return new UNetOutput(noise, out);
            }
        } finally {
            OnnxSession.closeAll(inputs);
        }
    }

    private String valueOf(int tap, int[] tokens) {
        return tokens == null ? taps.get(tap).valueName() : taps.get(tap).valueName() + SELECTED_SUFFIX;
    }

    private OrtSession.Result runChecked(Map<String, OnnxTensor> feed, Set<String> fetch, int h, int w) {
        try {
            return session.run(feed, fetch);
        } catch (OnnxExecutionException e) {
            if (exportSize != null && (exportSize[0] != h || exportSize[1] != w)) {
                throw new OnnxExecutionException(file(), "the graph was exported for " + exportSize[0] + "x" + exportSize[1]
                        + " latents and fails at " + h + "x" + w + " (export it with dynamic height and width axes to use other sizes): "
                        + e.getMessage(), e);
            }
            throw e;
        }
    }

    private static OnnxTensor add(List<OnnxTensor> owned, OnnxTensor t) {
        owned.add(t);
        return t;
    }

    private OnnxTensor timestepTensor(float[] timesteps, int batch) {
        boolean same = true;
        for (float t : timesteps) {
            same &= t == timesteps[0];
        }
        if (timestepRank == 0 || timestepFixedLength == 1) {
            if (!same) {
                throw new IllegalArgumentException(file() + " takes one timestep for the whole batch; got " + Arrays.toString(timesteps));
            }
            return session.floatInput(timestepName, new float[] {timesteps[0]}, timestepRank == 0 ? new long[0] : new long[] {1});
        }
        float[] t = new float[batch];
        for (int i = 0; i < batch; i++) {
            t[i] = timesteps.length == 1 ? timesteps[0] : timesteps[i];
        }
        return session.floatInput(timestepName, t, new long[] {batch});
    }

    static FloatTensor repeat(FloatTensor single, int batch) {
        float[] src = single.data();
        float[] out = new float[src.length * batch];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(src, 0, out, b * src.length, src.length);
        }
        long[] shape = single.shape();
        shape[0] = batch;
        return new FloatTensor(shape, out);
    }

    private List<CrossAttentionLayer> layersFrom(List<FloatTensor> probs, int batch, int h, int w) {
        List<CrossAttentionLayer> out = new ArrayList<>();
        for (int i = 0; i < taps.size(); i++) {
            FloatTensor p = probs.get(i);
            int heads = headsOf(p, batch, i);
            int downscale = downscaleOf(p.dim(-2), h, w, i);
            out.add(new CrossAttentionLayer(i, taps.get(i).module(), heads, downscale));
        }
        return List.copyOf(out);
    }

    private int headsOf(FloatTensor p, int batch, int i) {
        if (p.rank() == 4 && p.dim(0) == batch) {
            return p.dim(1);
        }
        if (p.rank() == 3 && p.dim(0) % batch == 0) {
            return p.dim(0) / batch;
        }
        throw new OnnxExecutionException(file(), "cross-attention output of " + taps.get(i).module() + " has shape "
                + Arrays.toString(p.shape()) + "; expected [batch*heads, pixels, tokens] or [batch, heads, pixels, tokens] for batch "
                + batch, null);
    }

    private int downscaleOf(int pixels, int h, int w, int i) {
        for (int d = 1; d <= 1024; d *= 2) {
            if (ceilDiv(h, d) * ceilDiv(w, d) == pixels) {
                return d;
            }
        }
        throw new OnnxExecutionException(file(), "cross-attention output of " + taps.get(i).module() + " has " + pixels
                + " pixels, which is no power-of-two reduction of the " + h + "x" + w + " latent", null);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private CrossAttentionOutput toOutput(CrossAttentionLayer layer, FloatTensor p, int batch, int h, int w) {
        int heads = headsOf(p, batch, layer.index());
        int d = downscaleOf(p.dim(-2), h, w, layer.index());
        if (heads != layer.heads() || d != layer.downscale()) {
            throw new OnnxExecutionException(file(), "cross-attention layer " + layer.name() + " changed shape: "
                    + Arrays.toString(p.shape()), null);
        }
        FloatTensor shaped = new FloatTensor(new long[] {batch, heads, p.dim(-2), p.dim(-1)}, p.data());
        return new CrossAttentionOutput(layer, ceilDiv(h, d), ceilDiv(w, d), shaped);
    }

    @Override
    public void close() {
        session.close();
    }
}
