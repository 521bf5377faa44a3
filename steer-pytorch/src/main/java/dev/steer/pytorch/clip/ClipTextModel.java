package dev.steer.pytorch.clip;

import dev.steer.pytorch.internal.nn.Embedding;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.model.ClipTextConfig;
import dev.steer.pytorch.internal.nn.Activations;
import dev.steer.pytorch.internal.nn.LayerNorm;
import dev.steer.pytorch.nn.Module;
import java.util.ArrayList;
import java.util.List;

/**
 * transformers' {@code CLIPTextModel}, the text encoder of SD 1.x and SD 2.x, built from its
 * {@link ClipTextConfig} with parameters named as in {@code text_encoder/model.safetensors}
 * ({@code text_model.embeddings.token_embedding.weight}, {@code text_model.encoder.layers.0.self_attn.q_proj.weight}, ...).
 *
 * <p>Token and position embeddings, then pre-norm transformer layers with a causal self-attention
 * mask (each token sees itself and the tokens before it; Stable Diffusion pipelines pass no padding
 * mask), then {@code final_layer_norm}. Everything is differentiable, the token embedding table
 * included, so the encoder can be trained as well as run.
 *
 * <p>Outputs land in the manager of the input ids.
 */
public final class ClipTextModel extends Module {
    private static final float MASKED = -Float.MAX_VALUE;

    private final ClipTextConfig config;
    private final Embedding tokenEmbedding;
    private final Embedding positionEmbedding;
    private final List<ClipEncoderLayer> layers = new ArrayList<>();
    private final LayerNorm finalLayerNorm;

    /** Builds the module tree (without weights) for a config. */
    public ClipTextModel(ClipTextConfig config) {
        this.config = config;
        int hidden = config.hiddenSize();
        Activations act = Activations.parse(config.hiddenAct(), "hidden_act");
        tokenEmbedding = child("text_model.embeddings.token_embedding", new Embedding(config.vocabSize(), hidden));
        positionEmbedding = child("text_model.embeddings.position_embedding",
                new Embedding(config.maxPositionEmbeddings(), hidden));
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(child("text_model.encoder.layers." + i, new ClipEncoderLayer(hidden, config.intermediateSize(),
                    config.numAttentionHeads(), config.layerNormEps(), act)));
        }
        finalLayerNorm = child("text_model.final_layer_norm", new LayerNorm(hidden, config.layerNormEps()));
    }

    /** The config this model was built from. */
    public ClipTextConfig config() {
        return config;
    }

    /**
     * transformers' {@code last_hidden_state}: the output of the last layer after
     * {@code final_layer_norm}. This is what SD 1.x and SD 2.x pipelines condition the UNet on.
     *
     * @param inputIds token ids [B, T] (int64 or int32), T at most {@code max_position_embeddings}
     * @return [B, T, hidden_size], in the ids' manager
     */
    public NDArray forward(NDArray inputIds) {
        return finalLayerNorm.forward(hiddenState(inputIds, 0));
    }

    /**
     * A hidden state before the last layers, without {@code final_layer_norm}: transformers'
     * {@code hidden_states[-(skipLastLayers + 1)]}. {@code skipLastLayers = 1} is the "penultimate"
     * hidden state (the input of the last layer); {@code 0} is the last layer's output before the
     * final norm. Only the layers needed are run.
     *
     * <p>diffusers' {@code clip_skip} option conditions on {@code finalLayerNorm(hiddenState(ids, clipSkip))};
     * use {@link #finalLayerNorm(NDArray)} for that.
     *
     * @param inputIds token ids [B, T]
     * @param skipLastLayers how many of the last layers not to run, 0 to {@code num_hidden_layers}
     *     ({@code num_hidden_layers} gives the embeddings)
     * @return [B, T, hidden_size], in the ids' manager
     */
    public NDArray hiddenState(NDArray inputIds, int skipLastLayers) {
        if (skipLastLayers < 0 || skipLastLayers > layers.size()) {
            throw new IllegalArgumentException("skipLastLayers must be in [0, " + layers.size() + "], got " + skipLastLayers);
        }
        Shape s = inputIds.getShape();
        if (s.dimension() != 2 || s.get(1) < 1 || s.get(1) > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("input ids must be [B, T] with 1 <= T <= " + config.maxPositionEmbeddings()
                    + ", got " + s);
        }
        if (!inputIds.getDataType().isInteger()) {
            throw new IllegalArgumentException("input ids must be integers, got " + inputIds.getDataType());
        }
        int t = (int) s.get(1);
        NDManager manager = inputIds.getManager();
        long[] positions = new long[t];
        for (int i = 0; i < t; i++) {
            positions[i] = i;
        }
        NDArray h = tokenEmbedding.lookup(inputIds).add(positionEmbedding.lookup(manager.create(positions, new Shape(1, t))));
        NDArray mask = causalMask(manager, t);
        for (int i = 0; i < layers.size() - skipLastLayers; i++) {
            h = layers.get(i).forward(h, mask);
        }
        return h;
    }

    /**
     * The last hidden state and the pooled output in one pass: transformers' {@code last_hidden_state}
     * and {@code pooler_output} (what FluxPipeline uses as {@code pooled_prompt_embeds}).
     *
     * @param inputIds token ids [B, T], each row holding its end token
     * @return both, in the ids' manager
     */
    public ClipTextOutput encode(NDArray inputIds) {
        NDArray last = forward(inputIds);
        return new ClipTextOutput(last, pooled(inputIds, last));
    }

    /**
     * transformers' {@code pooler_output}: the rows of {@code lastHiddenState} (already
     * final-layer-normed) at {@link #pooledPositions(NDArray)}.
     *
     * @param inputIds token ids [B, T]
     * @param lastHiddenState {@link #forward(NDArray)} of those ids, [B, T, hidden_size]
     * @return [B, hidden_size], in the hidden state's manager; differentiable
     */
    public NDArray pooled(NDArray inputIds, NDArray lastHiddenState) {
        Shape s = lastHiddenState.getShape();
        if (s.dimension() != 3 || s.get(0) != inputIds.getShape().get(0) || s.get(1) != inputIds.getShape().get(1)) {
            throw new IllegalArgumentException("last hidden state " + s + " does not belong to input ids " + inputIds.getShape());
        }
        long[] positions = pooledPositions(inputIds);
        NDList rows = new NDList(positions.length);
        for (int b = 0; b < positions.length; b++) {
            rows.add(lastHiddenState.get(b, positions[b]));
        }
        return NDArrays.stack(rows);
    }

    /**
     * Where each row's pooled output is read, as transformers' {@code CLIPTextTransformer} picks it:
     * with {@code eos_token_id} 2 (the legacy configs, FLUX.1's and SD's among them) the position of
     * the row's largest id ({@code input_ids.argmax(-1)}, the first on ties), since the end token
     * has the largest id of CLIP's vocabulary; otherwise the first position holding
     * {@code eos_token_id}.
     *
     * @param inputIds token ids [B, T]
     * @return one position per row
     * @throws IllegalArgumentException if the ids are not [B, T], or (new rule) a row has no end token,
     *     where transformers would silently read position 0
     */
    public long[] pooledPositions(NDArray inputIds) {
        Shape s = inputIds.getShape();
        if (s.dimension() != 2 || s.get(1) < 1 || !inputIds.getDataType().isInteger()) {
            throw new IllegalArgumentException("input ids must be integers [B, T], got " + inputIds.getDataType() + " " + s);
        }
        int batch = Math.toIntExact(s.get(0));
        int t = Math.toIntExact(s.get(1));
        long[] ids = inputIds.toType(ai.djl.ndarray.types.DataType.INT64, false).toLongArray();
        long[] out = new long[batch];
        boolean legacy = config.eosTokenId() == ClipTextConfig.LEGACY_EOS_TOKEN_ID;
        for (int b = 0; b < batch; b++) {
            int found = -1;
            for (int i = 0; i < t; i++) {
                long id = ids[b * t + i];
                if (legacy ? found < 0 || id > ids[b * t + found] : id == config.eosTokenId()) {
                    found = i;
                    if (!legacy) {
                        break;
                    }
                }
            }
            if (found < 0) {
                throw new IllegalArgumentException("row " + b + " of the input ids has no end token (eos_token_id "
                        + config.eosTokenId() + "), so there is no position to pool");
            }
            out[b] = found;
        }
        return out;
    }

    /** Applies {@code text_model.final_layer_norm} to a hidden state [..., hidden_size]. */
    public NDArray finalLayerNorm(NDArray hidden) {
        return finalLayerNorm.forward(hidden);
    }

    /** [T, T]: 0 where key <= query, the most negative float above the diagonal (as transformers). */
    private static NDArray causalMask(NDManager manager, int t) {
        float[] m = new float[t * t];
        for (int q = 0; q < t; q++) {
            for (int k = q + 1; k < t; k++) {
                m[q * t + k] = MASKED;
            }
        }
        return manager.create(m, new Shape(t, t));
    }
}
