package dev.steer.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.steer.core.model.ModelConfigException;
import dev.steer.onnx.internal.proto.OnnxModelProto;
import dev.steer.onnx.internal.proto.OnnxValueInfo;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A CLIP text encoder ({@code text_encoder/model.onnx}: input {@code input_ids} int64 or int32
 * [batch, tokens], output {@code last_hidden_state} [batch, tokens, dim]) on ONNX Runtime. The
 * graph is loaded as it is. Owns its session; close it. Not thread-safe.
 */
public final class OnnxTextEncoder implements AutoCloseable {
    private final OnnxSession session;
    private final String inputName;
    private final String outputName;
    private final int vocabSize;
    private final int hiddenSize;

    private OnnxTextEncoder(OnnxSession session, String inputName, String outputName, int vocabSize) {
        this.session = session;
        this.inputName = inputName;
        this.outputName = outputName;
        this.vocabSize = vocabSize;
        this.hiddenSize = (int) GraphInspection.fixedDim(session.declaredOutputs().get(outputName), -1);
    }

    /**
     * Loads a text encoder graph.
     *
     * @throws ModelConfigException naming the file when it is missing, not an ONNX model, or not a text encoder
     */
    public static OnnxTextEncoder load(Path file) {
        return load(file, SessionSettings.DEFAULT);
    }

    static OnnxTextEncoder load(Path file, SessionSettings settings) {
        OnnxModelProto model = OnnxSession.parse(file, "text encoder");
        List<OnnxValueInfo> inputs = model.inputs();
        OnnxValueInfo ids = inputs.stream().filter(v -> v.name().equals("input_ids")).findFirst()
                .orElse(inputs.size() == 1 ? inputs.get(0) : null);
        if (ids == null) {
            throw new ModelConfigException(file, "a text encoder graph takes input_ids; this one has inputs "
                    + inputs.stream().map(OnnxValueInfo::name).toList());
        }
        String output = model.outputs().stream().map(OnnxValueInfo::name).filter("last_hidden_state"::equals).findFirst()
                .orElse(model.outputs().isEmpty() ? null : model.outputs().get(0).name());
        if (output == null) {
            throw new ModelConfigException(file, "the graph declares no outputs");
        }
        int vocab = GraphInspection.embeddingRows(model, ids.name());
        OnnxSession session = OnnxSession.open(file, model, null, settings);
        return new OnnxTextEncoder(session, ids.name(), output, vocab);
    }

    /** The graph file. */
    public Path file() {
        return session.file();
    }

    /** Rows of the token embedding table (the vocabulary size), or -1 when the graph does not show it. */
    public int vocabSize() {
        return vocabSize;
    }

    /** The width of the hidden states (declared last dimension of the output), or -1 when not declared. */
    public int hiddenSize() {
        return hiddenSize;
    }

    /** Encodes one prompt's ids to [1, tokens, dim]. */
    public FloatTensor encode(long[] ids) {
        return encode(new long[][] {ids});
    }

    /**
     * Encodes prompts of equal length to [batch, tokens, dim].
     *
     * @throws IllegalArgumentException if lengths differ or an id is outside the vocabulary (tokenizer
     *     and text encoder from different models)
     */
    public FloatTensor encode(long[][] ids) {
        int batch = ids.length;
        int tokens = ids[0].length;
        long[] flat = new long[batch * tokens];
        for (int b = 0; b < batch; b++) {
            if (ids[b].length != tokens) {
                throw new IllegalArgumentException("prompts must have equal token counts, got " + tokens + " and " + ids[b].length);
            }
            for (int t = 0; t < tokens; t++) {
                long id = ids[b][t];
                if (id < 0 || (vocabSize > 0 && id >= vocabSize)) {
                    throw new IllegalArgumentException("token id " + id + " is outside the text encoder's vocabulary of " + vocabSize
                            + ": the tokenizer and the text encoder belong to different models");
                }
                flat[b * tokens + t] = id;
            }
        }
        try (OnnxTensor input = session.intInput(inputName, flat, new long[] {batch, tokens});
             OrtSession.Result result = session.run(Map.of(inputName, input), Set.of(outputName))) {
            return session.output(result, outputName);
        }
    }

    @Override
    public void close() {
        session.close();
    }
}
