package dev.steer.pytorch.t5;

import dev.steer.pytorch.internal.nn.Embedding;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.model.ModelFolder;
import dev.steer.core.model.T5Config;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.internal.nn.RmsNorm;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * transformers' {@code T5EncoderModel}, FLUX.1's second text encoder (T5-XXL v1.1), built from its
 * {@link T5Config} with parameters named as in {@code text_encoder_2/model.safetensors}
 * ({@code shared.weight}, {@code encoder.block.0.layer.0.SelfAttention.q.weight},
 * {@code encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight},
 * {@code encoder.block.0.layer.1.DenseReluDense.wi_0.weight}, ..., {@code encoder.final_layer_norm.weight}).
 *
 * <p>The token embedding ({@code shared}, with no scaling), then pre-norm blocks of bidirectional
 * self-attention and feed-forward with RMS norms ({@code T5LayerNorm}: no mean subtraction, no
 * bias), then {@code encoder.final_layer_norm}. Attention scores are {@code q kᵀ} without
 * {@code 1/sqrt(d_kv)} scaling plus a position bias that the first block computes once from its
 * relative-position bucket table and every block reuses; there is no attention mask (FluxPipeline
 * passes none, so padding is attended). {@code encoder.embed_tokens.weight}, tied to
 * {@code shared.weight} and absent from HF-saved files, is ignored when a file has it.
 *
 * <p>Everything is differentiable, the embedding and bias tables included. Outputs land in the
 * manager of the input ids.
 */
public final class T5EncoderModel extends Module {
    /** The tied copy of {@code shared.weight} that some checkpoints carry. */
    public static final String TIED_EMBEDDING = "encoder.embed_tokens.weight";

    private final T5Config config;
    private final Embedding shared;
    private final List<T5Block> blocks = new ArrayList<>();
    private final RmsNorm finalLayerNorm;

    /** Builds the module tree (without weights) for a config. */
    public T5EncoderModel(T5Config config) {
        this.config = config;
        shared = child("shared", new Embedding(config.vocabSize(), config.dModel()));
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(child("encoder.block." + i, new T5Block(config, i == 0)));
        }
        finalLayerNorm = child("encoder.final_layer_norm", new RmsNorm(config.dModel(), config.layerNormEpsilon()));
    }

    /**
     * Loads a {@code text_encoder_2/} folder: {@code config.json} and the weights
     * ({@code model.safetensors}, a variant of it, or the shards of {@code model.safetensors.index.json}).
     *
     * @param textEncoderDir the folder
     * @param manager owns the weights
     * @throws dev.steer.core.model.ModelConfigException naming the file when the config or index is missing or unsupported
     * @throws dev.steer.core.weights.WeightsFormatException naming the file and tensor when the weights do not fit the config
     */
    public static T5EncoderModel load(Path textEncoderDir, NDManager manager) {
        return load(textEncoderDir, null, manager);
    }

    /**
     * Like {@link #load(Path, NDManager)}, preferring a weight variant ({@code "bf16"}, {@code "fp16"}), or
     * none when {@code variant} is null.
     */
    public static T5EncoderModel load(Path textEncoderDir, String variant, NDManager manager) {
        T5EncoderModel model = new T5EncoderModel(T5Config.load(textEncoderDir.resolve("config.json")));
        ModelWeights.load(model, ModelFolder.weightFiles(textEncoderDir, "model", variant), manager,
                Map.of(TIED_EMBEDDING, "shared.weight"));
        return model;
    }

    /** The config this model was built from. */
    public T5Config config() {
        return config;
    }

    /**
     * transformers' {@code last_hidden_state}: the last block's output after
     * {@code encoder.final_layer_norm}, what FluxPipeline passes as {@code prompt_embeds}.
     *
     * @param inputIds token ids [B, T] (int64 or int32), each in [0, vocab_size)
     * @return [B, T, d_model], in the ids' manager
     * @throws IllegalArgumentException for a wrong shape, a non-integer type or an id outside the vocabulary
     */
    public NDArray forward(NDArray inputIds) {
        Shape s = inputIds.getShape();
        if (s.dimension() != 2 || s.get(0) < 1 || s.get(1) < 1) {
            throw new IllegalArgumentException("input ids must be [B, T] with B, T >= 1, got " + s);
        }
        if (!inputIds.getDataType().isInteger()) {
            throw new IllegalArgumentException("input ids must be integers, got " + inputIds.getDataType());
        }
        for (long id : inputIds.toType(ai.djl.ndarray.types.DataType.INT64, false).toLongArray()) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("input id " + id + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        int t = Math.toIntExact(s.get(1));
        NDArray h = shared.lookup(inputIds);
        NDArray bias = positionBias(inputIds.getManager(), t, t);
        for (T5Block block : blocks) {
            h = block.forward(h, bias);
        }
        return finalLayerNorm.forward(h);
    }

    /**
     * The position bias every block adds to its attention scores: the first block's
     * {@code relative_attention_bias} rows for {@link #relativePositionBuckets} (bidirectional).
     *
     * @return [1, num_heads, queryLength, keyLength] in {@code manager}
     */
    public NDArray positionBias(NDManager manager, int queryLength, int keyLength) {
        if (queryLength < 1 || keyLength < 1) {
            throw new IllegalArgumentException("lengths must be positive, got " + queryLength + " x " + keyLength);
        }
        return blocks.get(0).selfAttention().positionBias(manager, queryLength, keyLength);
    }

    /**
     * transformers' {@code T5Attention._relative_position_bucket} for one relative position
     * ({@code key - query}). Bidirectional: half the buckets for each sign; in each half, distances
     * below a quarter of {@code numBuckets} get a bucket each, larger ones share logarithmically
     * wider buckets up to {@code maxDistance}, beyond which all fall in the last. Computed in float32
     * as the reference does, so the buckets are identical.
     *
     * @param relativePosition key position minus query position
     * @param bidirectional true for the encoder (sign matters); false for causal attention
     * @param numBuckets {@code relative_attention_num_buckets}
     * @param maxDistance {@code relative_attention_max_distance}
     */
    public static long relativePositionBucket(long relativePosition, boolean bidirectional, int numBuckets, int maxDistance) {
        long bucket = 0;
        long position;
        int buckets = numBuckets;
        if (bidirectional) {
            buckets /= 2;
            if (relativePosition > 0) {
                bucket += buckets;
            }
            position = Math.abs(relativePosition);
        } else {
            position = -Math.min(relativePosition, 0);
        }
        int maxExact = buckets / 2;
        if (position < maxExact) {
            return bucket + position;
        }
        float ratio = (float) Math.log((float) position / maxExact) / (float) Math.log((double) maxDistance / maxExact);
        long large = maxExact + (long) (ratio * (buckets - maxExact));
        return bucket + Math.min(large, buckets - 1);
    }

    /**
     * The buckets of every (query, key) pair, row-major: element {@code i * keyLength + j} is
     * {@code relativePositionBucket(j - i, ...)}.
     */
    public static long[] relativePositionBuckets(int queryLength, int keyLength, boolean bidirectional, int numBuckets,
            int maxDistance) {
        long[] out = new long[Math.multiplyExact(queryLength, keyLength)];
        for (int i = 0; i < queryLength; i++) {
            for (int j = 0; j < keyLength; j++) {
                out[i * keyLength + j] = relativePositionBucket(j - i, bidirectional, numBuckets, maxDistance);
            }
        }
        return out;
    }
}
