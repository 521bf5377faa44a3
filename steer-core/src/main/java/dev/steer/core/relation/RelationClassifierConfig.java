package dev.steer.core.relation;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.steering.ClassifierTimesteps;
import dev.steer.core.internal.weights.UntrustedText;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The configuration of the published Learn-to-Steer relation classifier ("attention" architecture):
 * the {@code config} dict its checkpoints carry, plus the class names and {@code input_channels}.
 *
 * <p>The library's {@code config.json} is the fixture's format:
 * <pre>{@code {"config": {"extractor": {...}, "classifier": {...}, "map_size": 16, "d_model": 256,
 *   "num_timesteps": 50, "architecture": "attention"},
 *  "relations": ["above", "below", ...], "input_channels": 1368}}</pre>
 * with two optional library keys at the top level: {@code maps_per_word} (pin the number of maps
 * per word, e.g. 195 for SD 2.1; absent: any count from 1 to {@code input_channels} is accepted)
 * and {@code relation_head_positional_length} (length of the relation head's positional-encoding
 * buffer, 256 in the published code), and the checkpoint's {@code training_config}, of which the
 * library reads (and writes) {@code timesteps}, the step indices the classifier was trained at, and
 * checks {@code num_timesteps} against {@code config.num_timesteps}:
 * <pre>{@code "training_config": {"timesteps": [1, 3], "num_timesteps": 4}}</pre>
 * Without it the published SD indices {@link ClassifierTimesteps#TRAINED} ({5, 10, 15, 20, 25, 49})
 * are assumed, which requires {@code num_timesteps} of at least 50.
 *
 * <p>Options the library does not implement (another architecture, timestep mode or head version)
 * are refused with a {@link ModelConfigException} naming the key.
 *
 * @param dModel transformer width ({@code d_model})
 * @param mapSize side of the square maps ({@code map_size}, 16)
 * @param numTimesteps number of timestep indices embedded ({@code num_timesteps}, 50)
 * @param inputChannels length of the extractor's positional encoding: the most maps per word
 * @param extractor the per-word map extractor
 * @param classifier the relation head
 * @param relations class names by index ({@code idx_to_rel_name})
 * @param mapsPerWord the exact number of maps per word, or 0 for any count up to {@code inputChannels}
 * @param headPositionalLength length of the relation head's positional-encoding buffer
 * @param trainedTimesteps the timestep indices the classifier was trained at ({@code training_config.timesteps}),
 *     strictly increasing, each in [0, numTimesteps): [5, 10, 15, 20, 25, 49] for SD and FLUX.1-dev, [1, 3]
 *     for FLUX.1-schnell. An inference step maps to the first of them at or above it
 *     ({@link ClassifierTimesteps#indexFor(int, int, int[], int)}).
 */
public record RelationClassifierConfig(int dModel, int mapSize, int numTimesteps, int inputChannels, Extractor extractor,
        Head classifier, List<String> relations, int mapsPerWord, int headPositionalLength, List<Integer> trainedTimesteps) {

    /** The relation head's positional-encoding length in the published code. */
    public static final int DEFAULT_HEAD_POSITIONAL_LENGTH = 256;

    /**
     * The extractor ({@code config.extractor}).
     *
     * @param nhead self-attention heads
     * @param numLayers encoder layers
     * @param dimFeedforward FFN width
     * @param layerAttnHeads heads of the pooling attention ({@code layer_attn_nheads})
     * @param dropout dropout rate in training
     */
    public record Extractor(int nhead, int numLayers, int dimFeedforward, int layerAttnHeads, double dropout) {
    }

    /**
     * The relation head ({@code config.classifier}).
     *
     * @param timestepEmbeddingDim width of the timestep embedding concatenated before the MLP
     * @param nhead self-attention heads
     * @param numLayers encoder layers
     * @param dimFeedforward FFN width
     * @param dropout dropout rate in training
     */
    public record Head(int timestepEmbeddingDim, int nhead, int numLayers, int dimFeedforward, double dropout) {
    }

    /** Validates the sizes. @throws IllegalArgumentException on an inconsistent configuration */
    public RelationClassifierConfig {
        relations = List.copyOf(relations);
        trainedTimesteps = List.copyOf(trainedTimesteps);
        check(dModel > 0 && mapSize > 0 && numTimesteps > 0 && inputChannels > 0 && headPositionalLength > 0,
                "d_model, map_size, num_timesteps, input_channels and the head's positional length must be positive");
        check(extractor.nhead() > 0 && dModel % extractor.nhead() == 0, "extractor.nhead must divide d_model " + dModel);
        check(extractor.layerAttnHeads() > 0 && dModel % extractor.layerAttnHeads() == 0,
                "extractor.layer_attn_nheads must divide d_model " + dModel);
        check(classifier.nhead() > 0 && dModel % classifier.nhead() == 0, "classifier.nhead must divide d_model " + dModel);
        check(extractor.numLayers() >= 0 && classifier.numLayers() >= 0, "num_layers must not be negative");
        check(extractor.dimFeedforward() > 0 && classifier.dimFeedforward() > 0, "dim_feedforward must be positive");
        check(classifier.timestepEmbeddingDim() > 0, "classifier.timestep_embedding_dim must be positive");
        check(extractor.dropout() >= 0 && extractor.dropout() < 1 && classifier.dropout() >= 0 && classifier.dropout() < 1,
                "dropout must be in [0, 1)");
        check(!relations.isEmpty() && new HashSet<>(relations).size() == relations.size(), "relations must be distinct and non-empty");
        check(mapsPerWord >= 0 && mapsPerWord <= inputChannels, "maps_per_word must be in [1, input_channels " + inputChannels
                + "] (or 0 for any), got " + mapsPerWord);
        check(!trainedTimesteps.isEmpty(), "training timesteps must not be empty");
        for (int i = 0; i < trainedTimesteps.size(); i++) {
            int t = trainedTimesteps.get(i);
            check(t >= 0 && t < numTimesteps, "training timestep " + t + " is outside [0, num_timesteps " + numTimesteps + ")"
                    + (trainedTimesteps.equals(published()) ? " (no training_config.timesteps given, so the published SD indices "
                    + published() + " were assumed; give the classifier's own)" : ""));
            check(i == 0 || t > trainedTimesteps.get(i - 1), "training timesteps must be strictly increasing, got " + trainedTimesteps);
        }
    }

    /**
     * A configuration whose classifier was trained at the published SD indices {@link ClassifierTimesteps#TRAINED}
     * (the layout before training timesteps were recorded).
     */
    public RelationClassifierConfig(int dModel, int mapSize, int numTimesteps, int inputChannels, Extractor extractor,
            Head classifier, List<String> relations, int mapsPerWord, int headPositionalLength) {
        this(dModel, mapSize, numTimesteps, inputChannels, extractor, classifier, relations, mapsPerWord, headPositionalLength,
                published());
    }

    /** {@link ClassifierTimesteps#TRAINED} as a list. */
    private static List<Integer> published() {
        return Arrays.stream(ClassifierTimesteps.TRAINED).boxed().toList();
    }

    /** The training timesteps as an array (a fresh copy). */
    public int[] trainedTimestepArray() {
        return trainedTimesteps.stream().mapToInt(Integer::intValue).toArray();
    }

    /** This configuration with other training timesteps. */
    public RelationClassifierConfig withTrainedTimesteps(List<Integer> timesteps) {
        return new RelationClassifierConfig(dModel, mapSize, numTimesteps, inputChannels, extractor, classifier, relations, mapsPerWord,
                headPositionalLength, timesteps);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** The published SD configuration (d_model 256, the SD 2.1 checkpoint's sizes) with the given classes. */
    public static RelationClassifierConfig publishedSd(List<String> relations) {
        return new RelationClassifierConfig(256, 16, 50, 1368, new Extractor(2, 2, 128, 2, 0.3), new Head(16, 4, 2, 128, 0.3),
                relations, 0, DEFAULT_HEAD_POSITIONAL_LENGTH);
    }

    /** This configuration with the number of maps per word pinned (0: any up to {@code input_channels}). */
    public RelationClassifierConfig withMapsPerWord(int n) {
        return new RelationClassifierConfig(dModel, mapSize, numTimesteps, inputChannels, extractor, classifier, relations, n,
                headPositionalLength, trainedTimesteps);
    }

    /** Number of classes. */
    public int numClasses() {
        return relations.size();
    }

    /** Values per map ({@code map_size^2}). */
    public int mapArea() {
        return mapSize * mapSize;
    }

    // ---- reading

    /** Reads the library's {@code config.json}. @throws ModelConfigException naming the file and the key */
    public static RelationClassifierConfig load(Path file) {
        String text;
        try {
            if (Files.size(file) > (1 << 20)) {
                throw new ModelConfigException(file, "is larger than 1 MB: not a classifier config");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ModelConfigException(file, "file not found");
        } catch (IOException e) {
            throw new ModelConfigException(file, "cannot read: " + e.getMessage());
        }
        return parse(file, text);
    }

    /** Parses config.json text; {@code file} names the source in messages. */
    public static RelationClassifierConfig parse(Path file, String text) {
        Object root;
        try {
            root = plain(JsonParser.parseString(text));
        } catch (JsonParseException e) {
            throw new ModelConfigException(file, "is not valid JSON: " + e.getMessage());
        }
        Reader top = new Reader(file, "", root);
        if (!top.has("config") || !top.has("relations")) {
            throw new ModelConfigException(file, "is not a relation classifier config (needs 'config' and 'relations')");
        }
        List<String> relations = top.strings("relations");
        return build(file, top.get("config"), relations, top.integer("input_channels"), top.optInt("maps_per_word", 0),
                top.optInt("relation_head_positional_length", DEFAULT_HEAD_POSITIONAL_LENGTH),
                top.has("training_config") ? top.get("training_config") : null);
    }

    /**
     * Builds a configuration from a published checkpoint's entries.
     *
     * @param source names the checkpoint in messages
     * @param config the checkpoint's {@code config} dict (plain Java values as {@code TorchCheckpoint} returns them)
     * @param relations class names by index (from {@code idx_to_rel_name})
     * @param inputChannels the checkpoint's {@code input_channels}
     * @throws ModelConfigException naming the key on anything missing or unsupported
     */
    public static RelationClassifierConfig fromCheckpoint(Path source, Object config, List<String> relations, int inputChannels) {
        return fromCheckpoint(source, config, relations, inputChannels, null);
    }

    /**
     * Like {@link #fromCheckpoint(Path, Object, List, int)}, with the checkpoint's {@code training_config} dict
     * (or null when it has none), from which {@code timesteps} is read and {@code num_timesteps} checked.
     */
    public static RelationClassifierConfig fromCheckpoint(Path source, Object config, List<String> relations, int inputChannels,
            Object trainingConfig) {
        return build(source, config, relations, inputChannels, 0, DEFAULT_HEAD_POSITIONAL_LENGTH, trainingConfig);
    }

    private static RelationClassifierConfig build(Path file, Object configObj, List<String> relations, int inputChannels,
            int mapsPerWord, int headPositional, Object trainingConfig) {
        Reader c = new Reader(file, "config.", configObj);
        c.refuseUnless("architecture", "attention");
        Reader e = c.child("extractor");
        Reader ts = e.child("timestep_embedding");
        if (!ts.bool("enable")) {
            throw new ModelConfigException(file, "unsupported option config.extractor.timestep_embedding.enable=false; this library "
                    + "implements the published classifier with the timestep embedding (mode 'mid')");
        }
        ts.refuseUnless("mode", "mid");
        Reader h = c.child("classifier");
        h.refuseUnless("mode", "multiclass");
        h.refuseUnless("fc_ver", "v1");
        Extractor ext = new Extractor(e.integer("nhead"), e.integer("num_layers"), e.integer("dim_feedforward"),
                e.integer("layer_attn_nheads"), e.number("dropout"));
        Head head = new Head(h.integer("timestep_embedding_dim"), h.integer("nhead"), h.integer("num_layers"),
                h.integer("dim_feedforward"), h.number("dropout"));
        int numTimesteps = c.integer("num_timesteps");
        List<Integer> trained = published();
        if (trainingConfig != null) {
            Reader t = new Reader(file, "training_config.", trainingConfig);
            t.map();
            if (t.has("num_timesteps") && t.integer("num_timesteps") != numTimesteps) {
                throw new ModelConfigException(file, "training_config.num_timesteps " + t.integer("num_timesteps")
                        + " disagrees with config.num_timesteps " + numTimesteps);
            }
            if (t.has("timesteps")) {
                trained = t.integers("timesteps");
            }
        }
        try {
            return new RelationClassifierConfig(c.integer("d_model"), c.integer("map_size"), numTimesteps,
                    inputChannels, ext, head, relations, mapsPerWord, headPositional, trained);
        } catch (IllegalArgumentException ex) {
            throw new ModelConfigException(file, ex.getMessage());
        }
    }

    /** JSON to plain Java values (Map, List, String, Long, Double, Boolean, null), as the unpickler gives. */
    private static Object plain(JsonElement el) {
        if (el == null || el.isJsonNull()) {
            return null;
        }
        if (el.isJsonObject()) {
            Map<Object, Object> m = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : el.getAsJsonObject().entrySet()) {
                m.put(e.getKey(), plain(e.getValue()));
            }
            return m;
        }
        if (el.isJsonArray()) {
            List<Object> l = new ArrayList<>();
            for (JsonElement x : el.getAsJsonArray()) {
                l.add(plain(x));
            }
            return l;
        }
        JsonPrimitive p = el.getAsJsonPrimitive();
        if (p.isBoolean()) {
            return p.getAsBoolean();
        }
        if (p.isNumber()) {
            BigDecimal d = new BigDecimal(p.getAsString());
            try {
                return d.longValueExact();
            } catch (ArithmeticException notIntegral) {
                return d.doubleValue();
            }
        }
        return p.getAsString();
    }

    /** Checked access to a dict of plain values; messages name the file and the dotted key. */
    private record Reader(Path file, String prefix, Object value) {
        Map<?, ?> map() {
            if (!(value instanceof Map<?, ?> m)) {
                throw new ModelConfigException(file, "'" + (prefix.isEmpty() ? "root" : prefix.substring(0, prefix.length() - 1))
                        + "' should be a dict");
            }
            return m;
        }

        boolean has(String key) {
            return map().get(key) != null;
        }

        Object get(String key) {
            Object v = map().get(key);
            if (v == null) {
                throw new ModelConfigException(file, "missing required key '" + prefix + key + "'");
            }
            return v;
        }

        Reader child(String key) {
            Reader r = new Reader(file, prefix + key + ".", get(key));
            r.map();
            return r;
        }

        int integer(String key) {
            Object v = get(key);
            if (!(v instanceof Long l) || l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
                throw new ModelConfigException(file, "key '" + prefix + key + "' should be an integer, found " + UntrustedText.brief(v));
            }
            return (int) (long) l;
        }

        int optInt(String key, int fallback) {
            return has(key) ? integer(key) : fallback;
        }

        double number(String key) {
            Object v = get(key);
            if (!(v instanceof Number n)) {
                throw new ModelConfigException(file, "key '" + prefix + key + "' should be a number, found " + UntrustedText.brief(v));
            }
            return n.doubleValue();
        }

        boolean bool(String key) {
            Object v = get(key);
            if (!(v instanceof Boolean b)) {
                throw new ModelConfigException(file, "key '" + prefix + key + "' should be true or false, found " + UntrustedText.brief(v));
            }
            return b;
        }

        List<Integer> integers(String key) {
            Object v = get(key);
            if (!(v instanceof List<?> l)) {
                throw new ModelConfigException(file, "key '" + prefix + key + "' should be a list of integers, found " + UntrustedText.brief(v));
            }
            List<Integer> out = new ArrayList<>();
            for (Object o : l) {
                if (!(o instanceof Long n) || n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
                    throw new ModelConfigException(file, "key '" + prefix + key + "' should be a list of integers, found " + UntrustedText.brief(o));
                }
                out.add((int) (long) n);
            }
            return out;
        }

        List<String> strings(String key) {
            Object v = get(key);
            if (!(v instanceof List<?> l)) {
                throw new ModelConfigException(file, "key '" + prefix + key + "' should be a list of strings");
            }
            List<String> out = new ArrayList<>();
            for (Object o : l) {
                if (!(o instanceof String s)) {
                    throw new ModelConfigException(file, "key '" + prefix + key + "' should be a list of strings, found " + UntrustedText.brief(o));
                }
                out.add(s);
            }
            return out;
        }

        void refuseUnless(String key, String supported) {
            Object v = get(key);
            if (!supported.equals(v)) {
                throw new ModelConfigException(file, "unsupported option " + prefix + key + "=" + UntrustedText.brief(v) + "; this library implements "
                        + "only '" + supported + "' (the published classifier)");
            }
        }
    }

    // ---- writing

    /** The library's {@code config.json} text for this configuration (readable by {@link #parse}). */
    public String toJson() {
        JsonObject ts = new JsonObject();
        ts.addProperty("enable", true);
        ts.addProperty("mode", "mid");
        JsonObject ext = new JsonObject();
        ext.addProperty("nhead", extractor.nhead());
        ext.addProperty("num_layers", extractor.numLayers());
        ext.addProperty("dim_feedforward", extractor.dimFeedforward());
        ext.addProperty("layer_attn_nheads", extractor.layerAttnHeads());
        ext.addProperty("dropout", extractor.dropout());
        ext.add("timestep_embedding", ts);
        JsonObject head = new JsonObject();
        head.addProperty("mode", "multiclass");
        head.addProperty("timestep_embedding_dim", classifier.timestepEmbeddingDim());
        head.addProperty("nhead", classifier.nhead());
        head.addProperty("num_layers", classifier.numLayers());
        head.addProperty("dim_feedforward", classifier.dimFeedforward());
        head.addProperty("fc_ver", "v1");
        head.addProperty("dropout", classifier.dropout());
        JsonObject config = new JsonObject();
        config.add("extractor", ext);
        config.add("classifier", head);
        config.addProperty("map_size", mapSize);
        config.addProperty("d_model", dModel);
        config.addProperty("num_timesteps", numTimesteps);
        config.addProperty("architecture", "attention");
        JsonObject root = new JsonObject();
        root.add("config", config);
        JsonArray rel = new JsonArray();
        relations.forEach(rel::add);
        root.add("relations", rel);
        root.addProperty("input_channels", inputChannels);
        if (mapsPerWord > 0) {
            root.addProperty("maps_per_word", mapsPerWord);
        }
        root.addProperty("relation_head_positional_length", headPositionalLength);
        JsonObject training = new JsonObject();
        JsonArray trained = new JsonArray();
        trainedTimesteps.forEach(trained::add);
        training.add("timesteps", trained);
        training.addProperty("num_timesteps", numTimesteps);
        root.add("training_config", training);
        return new GsonBuilder().setPrettyPrinting().create().toJson(root) + "\n";
    }
}
