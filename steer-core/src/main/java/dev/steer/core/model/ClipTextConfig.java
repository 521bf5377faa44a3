package dev.steer.core.model;

import java.nio.file.Path;
import java.util.List;

/**
 * The options of a Hugging Face transformers {@code CLIPTextModel} (the text encoder of SD 1.x and
 * SD 2.x), read from {@code text_encoder/config.json}. A config that is not a CLIP text model, or
 * that uses an option this library does not implement (an activation other than
 * {@code quick_gelu}/{@code gelu}, for example), is refused by {@link #load} with a message naming
 * it.
 *
 * @param vocabSize rows of the token embedding
 * @param hiddenSize width of the hidden states
 * @param intermediateSize width of the MLP's hidden layer
 * @param numAttentionHeads heads of every self-attention
 * @param numHiddenLayers encoder layers (12 for SD 1.x, 23 for SD 2.x's truncated OpenCLIP encoder)
 * @param maxPositionEmbeddings rows of the position embedding (longest token sequence, 77)
 * @param hiddenAct {@code quick_gelu} (SD 1.x) or {@code gelu} (SD 2.x)
 * @param layerNormEps epsilon of every layer norm
 * @param eosTokenId {@code eos_token_id}, which picks the pooled output's position: 2 (transformers'
 *     default, and what the SD and FLUX.1 configs say) selects the legacy rule, the position of the
 *     largest id; any other value the first position holding that id
 */
public record ClipTextConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numAttentionHeads,
        int numHiddenLayers,
        int maxPositionEmbeddings,
        String hiddenAct,
        float layerNormEps,
        int eosTokenId) {

    /** transformers' {@code CLIPTextConfig} default {@code eos_token_id}, which also selects the legacy pooling rule. */
    public static final int LEGACY_EOS_TOKEN_ID = 2;

    /** The activations this library implements, by their config names. */
    public static final List<String> ACTIVATIONS = List.of("quick_gelu", "gelu");
    /** The {@code architectures} entries accepted. */
    public static final List<String> ARCHITECTURES = List.of("CLIPTextModel", "CLIPTextModelWithProjection");

    /** A config with the default {@code eos_token_id} ({@value #LEGACY_EOS_TOKEN_ID}). */
    public ClipTextConfig(int vocabSize, int hiddenSize, int intermediateSize, int numAttentionHeads, int numHiddenLayers,
            int maxPositionEmbeddings, String hiddenAct, float layerNormEps) {
        this(vocabSize, hiddenSize, intermediateSize, numAttentionHeads, numHiddenLayers, maxPositionEmbeddings, hiddenAct,
                layerNormEps, LEGACY_EOS_TOKEN_ID);
    }

    /** Reads {@code text_encoder/config.json}. @throws ModelConfigException naming the file and the problem */
    public static ClipTextConfig load(Path configJson) {
        return from(ConfigJson.read(configJson));
    }

    /** Builds the config from parsed JSON, refusing anything that is not a supported CLIP text model. */
    public static ClipTextConfig from(ConfigJson c) {
        c.refuseUnless("model_type", "model type; a CLIP text encoder is expected", "clip_text_model");
        c.refuseArchitecturesOutside(ARCHITECTURES, "a CLIP text model");
        if (!c.has("hidden_size") || !c.has("num_hidden_layers") || !c.has("num_attention_heads")) {
            throw new ModelConfigException(c.file(), "is not a CLIP text model config: it needs hidden_size, "
                    + "num_attention_heads and num_hidden_layers");
        }
        String act = c.getString("hidden_act", "quick_gelu");
        if (!ACTIVATIONS.contains(act)) {
            throw new ModelConfigException(c.file(), "unsupported option hidden_act=\"" + act + "\" (activation); "
                    + "this library supports " + ACTIVATIONS);
        }
        int hidden = c.getInt("hidden_size");
        int heads = c.getInt("num_attention_heads");
        int layers = c.getInt("num_hidden_layers");
        if (hidden <= 0 || heads <= 0 || hidden % heads != 0) {
            throw new ModelConfigException(c.file(), "hidden_size " + hidden + " does not split in " + heads + " attention heads");
        }
        if (layers <= 0) {
            throw new ModelConfigException(c.file(), "num_hidden_layers must be positive, found " + layers);
        }
        int positions = c.getInt("max_position_embeddings", 77);
        int vocab = c.getInt("vocab_size", 49408);
        int intermediate = c.getInt("intermediate_size", hidden * 4);
        if (positions <= 0 || vocab <= 0 || intermediate <= 0) {
            throw new ModelConfigException(c.file(), "vocab_size, intermediate_size and max_position_embeddings must be positive");
        }
        int eos = c.getInt("eos_token_id", LEGACY_EOS_TOKEN_ID);
        if (eos < 0) {
            throw new ModelConfigException(c.file(), "key 'eos_token_id' must be a token id (>= 0), found " + eos);
        }
        return new ClipTextConfig(vocab, hidden, intermediate, heads, layers, positions, act,
                c.getFloat("layer_norm_eps", 1e-5f), eos);
    }

    /** Width of one attention head. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }
}
