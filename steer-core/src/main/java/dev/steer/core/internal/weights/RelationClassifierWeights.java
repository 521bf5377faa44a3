package dev.steer.core.internal.weights;

import dev.steer.core.model.ModelConfigException;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.TensorData;
import dev.steer.core.internal.weights.TorchCheckpoint;
import dev.steer.core.internal.weights.UntrustedText;
import dev.steer.core.weights.WeightsFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import dev.steer.core.relation.RelationClassifierConfig;

/**
 * A published relation classifier's configuration and state dict read into the Java heap, without
 * any tensor library: what a backend needs to build the classifier its own way (the ONNX backend
 * generates a graph from it). Reads the same files as the LibTorch backend's classifier: a
 * published {@code .pth} checkpoint (through the restricted {@link TorchCheckpoint} reader), a
 * {@code .safetensors} file with its configuration ({@link #configFor}: {@code <name>_config.json} or
 * the sibling {@code config.json}), or a folder holding a weights file and {@code config.json}.
 *
 * <p>Strict: every tensor that the configuration implies must be present with its shape
 * ({@link #expectedShapes}), and nothing else; a mismatch is named. Values are float32, row-major.
 *
 * @param source the file or folder read, for messages
 * @param config the configuration (class names included)
 * @param tensors the state dict by parameter name (checkpoint names, e.g. {@code object_extractor.query_vector})
 */
public record RelationClassifierWeights(Path source, RelationClassifierConfig config, Map<String, TensorData> tensors) {
    /** The weights file the library's format uses (and that a folder is read from first). */
    public static final String WEIGHTS_FILE = "classifier.safetensors";
    /** The configuration file of the library's format. */
    public static final String CONFIG_FILE = "config.json";

    /** Keeps an unmodifiable copy of the tensors. */
    public RelationClassifierWeights {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /**
     * Reads a classifier.
     *
     * @param checkpoint a published {@code .pth}, a {@code .safetensors} file with its configuration
     *     ({@link #configFor}), or a folder
     * @throws WeightsFormatException or {@link ModelConfigException} naming the file and the problem
     */
    public static RelationClassifierWeights load(Path checkpoint) {
        if (Files.isDirectory(checkpoint)) {
            return loadSafetensors(findWeights(checkpoint), checkpoint.resolve(CONFIG_FILE));
        }
        if (!Files.isRegularFile(checkpoint)) {
            throw new WeightsFormatException(checkpoint, "file not found");
        }
        if (checkpoint.getFileName().toString().endsWith(".safetensors")) {
            return loadSafetensors(checkpoint, configFor(checkpoint));
        }
        if (TorchCheckpoint.looksLikeTorchZip(checkpoint)) {
            return loadPth(checkpoint);
        }
        throw new WeightsFormatException(checkpoint, "neither a torch.save checkpoint (zip) nor a .safetensors file; "
                + "legacy (pre-1.6) torch.save files are not supported: re-save with a current PyTorch");
    }

    /**
     * The configuration file of a {@code .safetensors} classifier: {@code <name>_config.json} beside it when
     * present (so several classifiers can share a folder, e.g. {@code classifier_dev.safetensors} with
     * {@code classifier_dev_config.json}), else the folder's {@value #CONFIG_FILE}.
     */
    public static Path configFor(Path safetensors) {
        Path abs = safetensors.toAbsolutePath();
        String name = abs.getFileName().toString();
        String stem = name.endsWith(".safetensors") ? name.substring(0, name.length() - ".safetensors".length()) : name;
        Path own = abs.resolveSibling(stem + "_" + CONFIG_FILE);
        return Files.isRegularFile(own) ? own : abs.resolveSibling(CONFIG_FILE);
    }

    /** The float32 values of a tensor, row-major. @throws IllegalArgumentException if there is no such tensor */
    public float[] floats(String name) {
        TensorData t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + source);
        }
        return t.floats();
    }

    /**
     * The state dict's names and shapes that a configuration implies (the published architecture:
     * {@code object_extractor.*} shared by subject and object, {@code relation_classifier.*}), in
     * module order.
     */
    public static Map<String, long[]> expectedShapes(RelationClassifierConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        long d = c.dModel();
        long area = c.mapArea();
        String e = "object_extractor.";
        linear(m, e + "input_projection", area, d);
        m.put(e + "positional_encoding.pe", new long[] {1, c.inputChannels(), d});
        m.put(e + "timestep_embedding.weight", new long[] {c.numTimesteps(), d});
        for (int i = 0; i < c.extractor().numLayers(); i++) {
            encoderLayer(m, e + "transformer.layers." + i + ".", d, c.extractor().dimFeedforward());
        }
        m.put(e + "query_vector", new long[] {1, 1, d});
        attention(m, e + "layer_attention.", d);
        linear(m, e + "output_projection", d, area);
        String h = "relation_classifier.";
        linear(m, h + "projection", 2 * area, d);
        m.put(h + "positional_encoding.pe", new long[] {1, c.headPositionalLength(), d});
        for (int i = 0; i < c.classifier().numLayers(); i++) {
            encoderLayer(m, h + "transformer.layers." + i + ".", d, c.classifier().dimFeedforward());
        }
        m.put(h + "timestep_embedding.weight", new long[] {c.numTimesteps(), c.classifier().timestepEmbeddingDim()});
        linear(m, h + "fc.0", d + c.classifier().timestepEmbeddingDim(), 256);
        m.put(h + "fc.1.weight", new long[] {256});
        m.put(h + "fc.1.bias", new long[] {256});
        linear(m, h + "fc.4", 256, 128);
        m.put(h + "fc.5.weight", new long[] {128});
        m.put(h + "fc.5.bias", new long[] {128});
        linear(m, h + "fc.8", 128, c.numClasses());
        return m;
    }

    private static void linear(Map<String, long[]> m, String name, long in, long out) {
        m.put(name + ".weight", new long[] {out, in});
        m.put(name + ".bias", new long[] {out});
    }

    private static void attention(Map<String, long[]> m, String prefix, long d) {
        m.put(prefix + "in_proj_weight", new long[] {3 * d, d});
        m.put(prefix + "in_proj_bias", new long[] {3 * d});
        linear(m, prefix + "out_proj", d, d);
    }

    private static void encoderLayer(Map<String, long[]> m, String prefix, long d, long ff) {
        attention(m, prefix + "self_attn.", d);
        linear(m, prefix + "linear1", d, ff);
        linear(m, prefix + "linear2", ff, d);
        for (String n : List.of("norm1", "norm2")) {
            m.put(prefix + n + ".weight", new long[] {d});
            m.put(prefix + n + ".bias", new long[] {d});
        }
    }

    // ---- reading

    private static Path findWeights(Path dir) {
        for (String name : List.of(WEIGHTS_FILE, "model.safetensors")) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        List<Path> found;
        try (Stream<Path> s = Files.list(dir)) {
            found = s.filter(SafetensorsFile::isSafetensors).sorted().toList();
        } catch (IOException ex) {
            throw new WeightsFormatException(dir, "cannot list the folder: " + ex.getMessage(), ex);
        }
        if (found.size() != 1) {
            throw new WeightsFormatException(dir, found.isEmpty() ? "no .safetensors file in the folder"
                    : "several .safetensors files " + found + "; name one, or call it " + WEIGHTS_FILE);
        }
        return found.get(0);
    }

    private static RelationClassifierWeights loadSafetensors(Path file, Path configFile) {
        RelationClassifierConfig config = RelationClassifierConfig.load(configFile);
        Map<String, TensorData> state = new LinkedHashMap<>();
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            for (String name : st.tensors().keySet()) {
                if (!st.info(name).dtype().isFloating()) {
                    throw new WeightsFormatException(file, "tensor '" + name + "' has dtype " + st.info(name).dtype()
                            + ", not a float type");
                }
                state.put(name, TensorData.ofFloats(st.info(name).shape(), st.readFloats(name)));
            }
        }
        return checked(file, config, state);
    }

    private static RelationClassifierWeights loadPth(Path file) {
        TorchCheckpoint ck = TorchCheckpoint.read(file);
        Map<String, Object> top = ck.dict();
        for (String key : List.of("model_state_dict", "config", "input_channels")) {
            if (!top.containsKey(key)) {
                throw new WeightsFormatException(file, "not a published relation-classifier checkpoint: no '" + key + "' entry (entries: "
                        + UntrustedText.brief(List.copyOf(top.keySet())) + ")");
            }
        }
        if (!(top.get("input_channels") instanceof Long channels) || channels < 1 || channels > Integer.MAX_VALUE) {
            throw new WeightsFormatException(file, "'input_channels' is " + UntrustedText.brief(top.get("input_channels")) + ", not a positive integer");
        }
        RelationClassifierConfig config = RelationClassifierConfig.fromCheckpoint(file, top.get("config"), classNames(file, top),
                (int) (long) channels, top.get("training_config"));
        return checked(file, config, ck.tensors("model_state_dict"));
    }

    /** Class names by index from {@code idx_to_rel_name} (or, failing that, {@code rel_name_to_idx}). */
    private static List<String> classNames(Path file, Map<String, Object> top) {
        Map<Long, String> byIndex = new LinkedHashMap<>();
        if (top.get("idx_to_rel_name") instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> en : m.entrySet()) {
                if (!(en.getKey() instanceof Long i) || !(en.getValue() instanceof String n)) {
                    throw new WeightsFormatException(file, "'idx_to_rel_name' should map integers to names, has " + UntrustedText.brief(en.getKey()) + ": "
                            + UntrustedText.brief(en.getValue()));
                }
                byIndex.put(i, n);
            }
        } else if (top.get("rel_name_to_idx") instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> en : m.entrySet()) {
                if (!(en.getValue() instanceof Long i) || !(en.getKey() instanceof String n)) {
                    throw new WeightsFormatException(file, "'rel_name_to_idx' should map names to integers");
                }
                byIndex.put(i, n);
            }
        } else {
            throw new WeightsFormatException(file, "the checkpoint names no classes (no 'idx_to_rel_name' or 'rel_name_to_idx')");
        }
        List<String> names = new ArrayList<>();
        for (long i = 0; i < byIndex.size(); i++) {
            String n = byIndex.get(i);
            if (n == null) {
                throw new WeightsFormatException(file, "class indices are not 0.." + (byIndex.size() - 1) + ": " + UntrustedText.brief(List.copyOf(byIndex.keySet())));
            }
            names.add(n);
        }
        return names;
    }

    /** Every expected tensor present with its shape, nothing else; all converted to contiguous float32. */
    private static RelationClassifierWeights checked(Path file, RelationClassifierConfig config, Map<String, TensorData> state) {
        Map<String, long[]> expected = expectedShapes(config);
        TreeSet<String> unexpected = new TreeSet<>(state.keySet());
        unexpected.removeAll(expected.keySet());
        if (!unexpected.isEmpty()) {
            throw new WeightsFormatException(file, unexpected.size() + " tensors that the config does not describe, e.g. "
                    + UntrustedText.brief(unexpected.first()) + ": the config and the weights belong to different models");
        }
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            TensorData t = state.get(e.getKey());
            if (t == null) {
                throw new WeightsFormatException(file, "missing tensor '" + e.getKey() + "' that the config requires");
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new WeightsFormatException(file, "tensor '" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                        + " but the config implies " + Arrays.toString(e.getValue()));
            }
            if (!t.isFloating()) {
                throw new WeightsFormatException(file, "tensor '" + e.getKey() + "' has dtype " + t.dtype() + ", not a float type");
            }
            out.put(e.getKey(), TensorData.ofFloats(t.shape(), t.floats()));
        }
        return new RelationClassifierWeights(file, config, out);
    }
}
