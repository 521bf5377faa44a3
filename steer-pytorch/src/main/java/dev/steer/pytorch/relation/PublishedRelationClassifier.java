package dev.steer.pytorch.relation;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.relation.RelationClassifier;
import dev.steer.core.relation.RelationClassifierConfig;
import dev.steer.core.internal.weights.RelationClassifierWeights;
import dev.steer.core.internal.weights.SafetensorsWriter;
import dev.steer.core.internal.weights.TensorData;
import dev.steer.core.internal.weights.TorchCheckpoint;
import dev.steer.core.weights.WeightsFormatException;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.nn.Weight;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The published Learn-to-Steer relation classifier on LibTorch, with parameters named as the
 * checkpoints' {@code model_state_dict} ({@code object_extractor.*}, {@code relation_classifier.*}).
 *
 * <p>The extractor ({@link AttentionMapExtractor}) is shared: the subject's and the object's maps
 * run through it as one batch, and the two pooled maps feed the head ({@link RelationHead}). The
 * forward pass is plain NDArray math, so gradients flow to the maps (steering) and to the weights
 * (training; {@link #trainableParameters()} excludes the positional-encoding buffers). Dropout is
 * applied only when {@link #setTraining(boolean) training} is on; the default is evaluation mode.
 *
 * <p>Loads published {@code .pth} checkpoints (read by the restricted {@link TorchCheckpoint}
 * reader, nothing executed) and the library's own format, a safetensors file with a sibling
 * {@code config.json} ({@link #save}; the training timesteps travel in its {@code training_config}).
 * Outputs land in the manager of the input maps.
 */
public final class PublishedRelationClassifier extends Module implements TorchRelationClassifier {
    /** The weights file {@link #save} writes (and that a folder is read from first). */
    public static final String WEIGHTS_FILE = "classifier.safetensors";
    /** The configuration file {@link #save} writes and folders are read with. */
    public static final String CONFIG_FILE = "config.json";

    private static final String BUFFER_SUFFIX = "positional_encoding.pe";

    private final RelationClassifierConfig config;
    private final AttentionMapExtractor extractor;
    private final RelationHead head;
    private NDManager weights;
    private boolean training;

    /** Builds the module tree (without weights) for a config; load or initialise the weights before use. */
    public PublishedRelationClassifier(RelationClassifierConfig config) {
        this.config = config;
        this.extractor = child("object_extractor", new AttentionMapExtractor(config));
        this.head = child("relation_classifier", new RelationHead(config));
    }

    private Path source;

    @Override
    public Path source() {
        return source;
    }

    // ---- creation and loading

    /**
     * A classifier with seeded random weights (for training from scratch): weights as
     * {@link ModelWeights#randomize}, the positional-encoding buffers set to their sinusoidal tables.
     * The weights live in a sub-manager of {@code manager}, released by {@link #close()}.
     */
    public static PublishedRelationClassifier initialize(RelationClassifierConfig config, long seed, NDManager manager) {
        PublishedRelationClassifier c = new PublishedRelationClassifier(config);
        c.weights = manager.newSubManager();
        try {
            ModelWeights.randomize(c, seed, c.weights);
            for (PositionalEncoding pe : List.of(c.extractor.positionalEncoding(), c.head.positionalEncoding())) {
                Weight w = pe.namedParameters().get("pe");
                w.set(c.weights.create(pe.table(), w.shape()));
            }
            // the head's MLP norms start as torch's LayerNorm does: scale 1
            for (String key : List.of("relation_classifier.fc.1.weight", "relation_classifier.fc.5.weight")) {
                Weight w = c.namedParameters().get(key);
                w.set(c.weights.ones(w.shape()));
            }
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * Loads a classifier; the weights live in a sub-manager of {@code manager}, released by {@link #close()}.
     *
     * @param checkpoint one of: a published {@code .pth} checkpoint (torch.save zip: {@code model_state_dict},
     *     {@code idx_to_rel_name}, {@code input_channels}, {@code config}, {@code training_config}); a
     *     {@code .safetensors} file with its {@code <name>_config.json} or sibling {@code config.json}
     *     ({@link RelationClassifierWeights#configFor}); or a folder holding {@code config.json} and one safetensors file
     * @throws WeightsFormatException or {@link ModelConfigException} naming the file and the problem (a tensor
     *     whose shape disagrees with the config is named)
     */
    public static PublishedRelationClassifier load(Path checkpoint, NDManager manager) {
        // one bounded reader of untrusted checkpoints for both backends
        RelationClassifierWeights read = RelationClassifierWeights.load(checkpoint);
        PublishedRelationClassifier c = new PublishedRelationClassifier(read.config());
        c.weights = manager.newSubManager();
        c.source = checkpoint;
        try {
            c.setWeights(read.source(), read.tensors());
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** Strict: every parameter present with the config's shape, nothing else. */
    private void setWeights(Path file, Map<String, TensorData> state) {
        Map<String, Weight> params = namedParameters();
        TreeSet<String> unexpected = new TreeSet<>(state.keySet());
        unexpected.removeAll(params.keySet());
        if (!unexpected.isEmpty()) {
            throw new WeightsFormatException(file, unexpected.size() + " tensors that the config does not describe, e.g. '"
                    + unexpected.first() + "': the config and the weights belong to different models");
        }
        for (Map.Entry<String, Weight> e : params.entrySet()) {
            TensorData t = state.get(e.getKey());
            if (t == null) {
                throw new WeightsFormatException(file, "missing tensor '" + e.getKey() + "' that the config requires");
            }
            long[] expected = e.getValue().shape().getShape();
            if (!Arrays.equals(t.shape(), expected)) {
                throw new WeightsFormatException(file, "tensor '" + e.getKey() + "' has shape " + Arrays.toString(t.shape())
                        + " but the config implies " + Arrays.toString(expected));
            }
            if (!t.isFloating()) {
                throw new WeightsFormatException(file, "tensor '" + e.getKey() + "' has dtype " + t.dtype() + ", not a float type");
            }
            e.getValue().set(weights.create(t.floats(), new Shape(expected)));
        }
    }

    // ---- saving

    /**
     * Writes the library's format into {@code dir} (created if needed): {@value #WEIGHTS_FILE} with
     * every tensor of the state dict (buffers included, float32) and {@value #CONFIG_FILE}.
     */
    public void save(Path dir) {
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Weight> e : namedParameters().entrySet()) {
            NDArray v = e.getValue().value();
            float[] values = v.getDataType() == DataType.FLOAT32 ? v.toFloatArray() : v.toType(DataType.FLOAT32, false).toFloatArray();
            tensors.put(e.getKey(), TensorData.ofFloats(e.getValue().shape().getShape(), values));
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new WeightsFormatException(dir, "cannot create the folder: " + e.getMessage(), e);
        }
        SafetensorsWriter.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"));
        try {
            Files.writeString(dir.resolve(CONFIG_FILE), config.toJson(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new WeightsFormatException(dir.resolve(CONFIG_FILE), "cannot write: " + e.getMessage(), e);
        }
    }

    // ---- the classifier

    /** The configuration. */
    public RelationClassifierConfig config() {
        return config;
    }

    @Override
    public List<String> classNames() {
        return config.relations();
    }

    /**
     * The pinned number of maps per word when the config has one ({@code maps_per_word}); otherwise
     * the most the classifier accepts, {@code input_channels} (published checkpoints accept any count
     * from 1 to it: the maps are a sequence).
     */
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

    @Override
    public int mapSide() {
        return config.mapSize();
    }

    /** Turns dropout on (training) or off (evaluation, the default). */
    public void setTraining(boolean training) {
        this.training = training;
    }

    /** True when dropout is on. */
    public boolean isTraining() {
        return training;
    }

    /** The parameters an optimiser should update: all but the positional-encoding buffers. */
    public Map<String, Weight> trainableParameters() {
        Map<String, Weight> out = new LinkedHashMap<>(namedParameters());
        out.keySet().removeIf(k -> k.endsWith(BUFFER_SUFFIX));
        return out;
    }

    /** Sets gradient recording on the trainable parameters (never on the positional-encoding buffers). */
    @Override
    public void setRequiresGradient(boolean requires) {
        for (Weight w : trainableParameters().values()) {
            w.value().setRequiresGradient(requires);
        }
    }

    /**
     * Class logits.
     *
     * @param maps [batch, 2 (subject, object), maps per word, map_size, map_size]
     * @param timestepIndex [batch] or [batch, 1] integer indices in [0, num_timesteps)
     * @return [batch, classes], in the maps' manager
     * @throws IllegalArgumentException on wrong shapes (saying what was expected and what came) or indices out of range
     */
    @Override
    public NDArray logits(NDArray maps, NDArray timestepIndex) {
        Shape s = maps.getShape();
        int side = config.mapSize();
        if (s.dimension() != 5 || s.get(1) != 2 || s.get(3) != side || s.get(4) != side) {
            throw new IllegalArgumentException("maps must be [batch, 2, maps per word, " + side + ", " + side + "], got " + s);
        }
        long batch = s.get(0);
        long n = s.get(2);
        if (config.mapsPerWord() > 0 && n != config.mapsPerWord()) {
            throw new IllegalArgumentException("expected " + config.mapsPerWord() + " maps per word, got " + n);
        }
        if (n < 1 || n > config.inputChannels()) {
            throw new IllegalArgumentException("expected 1 to " + config.inputChannels() + " maps per word (input_channels), got " + n);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("maps must hold at least one sample, got " + s);
        }
        NDArray t = timesteps(timestepIndex, batch, maps.getManager());
        // subject and object of sample b are rows 2b and 2b+1: one extractor pass for both
        NDArray pooled = extractor.forward(maps.reshape(batch * 2, n, config.mapArea()), t.reshape(batch, 1).repeat(1, 2).reshape(batch * 2),
                training);
        return head.forward(pooled.reshape(batch, 1, 2L * config.mapArea()), t, training);
    }

    private NDArray timesteps(NDArray idx, long batch, NDManager manager) {
        Shape ts = idx.getShape();
        boolean shapeOk = (ts.dimension() == 1 && ts.get(0) == batch) || (ts.dimension() == 2 && ts.get(0) == batch && ts.get(1) == 1);
        if (!shapeOk) {
            throw new IllegalArgumentException("timestep indices must be [" + batch + "] or [" + batch + ", 1], got " + ts);
        }
        if (!idx.getDataType().isInteger()) {
            throw new IllegalArgumentException("timestep indices must be integers, got " + idx.getDataType());
        }
        long[] values = idx.toType(DataType.INT64, false).toLongArray();
        for (long v : values) {
            if (v < 0 || v >= config.numTimesteps()) {
                throw new IllegalArgumentException("timestep index " + v + " is outside [0, " + config.numTimesteps() + ")");
            }
        }
        return manager.create(values, new Shape(batch));
    }

    /** Releases the weights (when this classifier owns them). */
    @Override
    public void close() {
        if (weights != null) {
            weights.close();
            weights = null;
        }
    }
}
