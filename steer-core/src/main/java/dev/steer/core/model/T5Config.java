package dev.steer.core.model;

import java.nio.file.Path;
import java.util.List;

/**
 * The options of a Hugging Face transformers {@code T5EncoderModel} (FLUX.1's second text encoder,
 * T5-XXL v1.1, in {@code text_encoder_2/config.json}). A config of another model, or one using an
 * option this library does not implement, is refused by {@link #load} with a message naming the
 * file, the key and the supported values.
 *
 * <p>Two feed-forward variants are implemented, as transformers names them in
 * {@code feed_forward_proj}: {@code "gated-gelu"} (T5 v1.1, FLUX: {@code wo(gelu_new(wi_0 x) * wi_1 x)}
 * with the tanh approximation of GELU) and {@code "relu"} (the original T5: {@code wo(relu(wi x))}).
 *
 * @param vocabSize rows of the shared token embedding
 * @param dModel width of the hidden states
 * @param dKv width of one attention head (T5 does not require {@code numHeads * dKv == dModel})
 * @param numHeads heads of every self-attention
 * @param dFf width of the feed-forward hidden layer
 * @param numLayers encoder blocks
 * @param relativeAttentionNumBuckets buckets of the relative position bias (bidirectional: half per direction)
 * @param relativeAttentionMaxDistance distance from which all positions share the last bucket
 * @param layerNormEpsilon epsilon of every RMS norm
 * @param feedForwardProj {@code "gated-gelu"} or {@code "relu"}
 */
public record T5Config(
        int vocabSize,
        int dModel,
        int dKv,
        int numHeads,
        int dFf,
        int numLayers,
        int relativeAttentionNumBuckets,
        int relativeAttentionMaxDistance,
        float layerNormEpsilon,
        String feedForwardProj) {

    /** The {@code feed_forward_proj} values this library implements. */
    public static final List<String> FEED_FORWARD_PROJ = List.of("gated-gelu", "relu");
    /** The {@code architectures} entries accepted (an encoder-only checkpoint). */
    public static final List<String> ARCHITECTURES = List.of("T5EncoderModel");

    /** Reads {@code text_encoder_2/config.json}. @throws ModelConfigException naming the file and the problem */
    public static T5Config load(Path configJson) {
        return from(ConfigJson.read(configJson));
    }

    /** Builds the config from parsed JSON, refusing anything that is not a supported T5 encoder. */
    public static T5Config from(ConfigJson c) {
        c.refuseUnless("model_type", "model type; a T5 encoder is expected", "t5");
        c.refuseArchitecturesOutside(ARCHITECTURES, "a T5 encoder-only model");
        for (String key : List.of("d_model", "d_kv", "num_heads", "d_ff", "num_layers", "vocab_size")) {
            if (!c.has(key)) {
                throw new ModelConfigException(c.file(), "is not a T5 encoder config: missing required key '" + key
                        + "' (it needs d_model, d_kv, num_heads, d_ff, num_layers and vocab_size)");
            }
        }
        String ff = c.getString("feed_forward_proj", "relu");
        if (!FEED_FORWARD_PROJ.contains(ff)) {
            throw new ModelConfigException(c.file(), "unsupported option feed_forward_proj=\"" + ff
                    + "\" (feed-forward variant); this library supports " + FEED_FORWARD_PROJ);
        }
        int dModel = positive(c, "d_model");
        int dKv = positive(c, "d_kv");
        int heads = positive(c, "num_heads");
        int dFf = positive(c, "d_ff");
        int layers = positive(c, "num_layers");
        int vocab = positive(c, "vocab_size");
        int buckets = c.getInt("relative_attention_num_buckets", 32);
        int maxDistance = c.getInt("relative_attention_max_distance", 128);
        // bidirectional: half the buckets per direction, half of those exact, the rest logarithmic up to maxDistance
        if (buckets < 4 || buckets % 4 != 0) {
            throw new ModelConfigException(c.file(), "key 'relative_attention_num_buckets' must be a positive multiple of 4, found "
                    + buckets);
        }
        if (maxDistance <= buckets / 4) {
            throw new ModelConfigException(c.file(), "key 'relative_attention_max_distance' must exceed relative_attention_num_buckets / 4 = "
                    + buckets / 4 + ", found " + maxDistance);
        }
        float eps = c.getFloat("layer_norm_epsilon", 1e-6f);
        if (!(eps > 0) || Float.isInfinite(eps)) {
            throw new ModelConfigException(c.file(), "key 'layer_norm_epsilon' must be a positive number, found " + eps);
        }
        return new T5Config(vocab, dModel, dKv, heads, dFf, layers, buckets, maxDistance, eps, ff);
    }

    private static int positive(ConfigJson c, String key) {
        int v = c.getInt(key);
        if (v <= 0) {
            throw new ModelConfigException(c.file(), "key '" + key + "' must be positive, found " + v);
        }
        return v;
    }

    /** Whether the feed-forward block is gated ({@code wi_0}, {@code wi_1}, {@code wo}) rather than plain ({@code wi}, {@code wo}). */
    public boolean isGated() {
        return feedForwardProj.startsWith("gated-");
    }

    /** Width of the attention's inner projection, {@code numHeads * dKv}. */
    public int innerDim() {
        return numHeads * dKv;
    }
}
