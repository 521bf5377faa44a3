package dev.steer.spark;

import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.model.EmbeddedModels;
import dev.steer.core.scheduler.SchedulerType;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Which model every executor loads, once per JVM ({@link ExecutorModels}): a backend name, a model
 * folder that every executor can read at the same path (or {@code embedded:NAME} for a model shipped
 * as an artifact on the class path, copied out once per machine), an optional relation classifier,
 * and how many copies of the model one executor JVM holds.
 *
 * <p>Equal specs share one loaded model in a JVM; the record is the key.
 *
 * @param backend the backend's name ({@code pytorch} or {@code onnx}, see {@link dev.steer.core.engine.Backends})
 * @param model the model folder's path, or {@code embedded:NAME}
 * @param classifier the relation classifier's path; null for the model folder's {@code classifier}
 *     when it has one (else none); {@code none} for no classifier (vanilla generation only)
 * @param scheduler a scheduler name instead of the folder's ({@code ddim}, {@code euler},
 *     {@code dpm++2m}, {@code pndm}, {@code flowmatch}), or null
 * @param variant a weight variant such as {@code fp16}, or null
 * @param modelsPerExecutor how many copies of the model one executor JVM loads (1 to 64): with one,
 *     every task of the JVM takes turns on it; with as many as the executor's task slots, tasks
 *     generate side by side (LibTorch's gradient sections are still serialised per JVM)
 */
public record ModelSpec(String backend, String model, String classifier, String scheduler, String variant, int modelsPerExecutor)
        implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The prefix of model paths that name an embedded model. */
    public static final String EMBEDDED_PREFIX = "embedded:";

    /** The classifier value that loads none. */
    public static final String NO_CLASSIFIER = "none";

    /** Validates. */
    public ModelSpec {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(model, "model");
        if (model.isBlank()) {
            throw new IllegalArgumentException("the model path is empty");
        }
        if (modelsPerExecutor < 1 || modelsPerExecutor > 64) {
            throw new IllegalArgumentException("models per executor must be in [1, 64], got " + modelsPerExecutor);
        }
        if (scheduler != null) {
            SchedulerType.parse(scheduler);
        }
    }

    /** The model at {@code model} on the LibTorch backend, with the folder's classifier, one copy per executor. */
    public static ModelSpec of(String model) {
        return new ModelSpec("pytorch", model, null, null, null, 1);
    }

    /** The same spec on another backend. */
    public ModelSpec withBackend(String name) {
        return new ModelSpec(name, model, classifier, scheduler, variant, modelsPerExecutor);
    }

    /** The same spec with another classifier ({@code none} for none, null for the folder's). */
    public ModelSpec withClassifier(String path) {
        return new ModelSpec(backend, model, path, scheduler, variant, modelsPerExecutor);
    }

    /** The same spec with another scheduler (null for the folder's). */
    public ModelSpec withScheduler(String name) {
        return new ModelSpec(backend, model, classifier, name, variant, modelsPerExecutor);
    }

    /** The same spec with a weight variant (null for none). */
    public ModelSpec withVariant(String name) {
        return new ModelSpec(backend, model, classifier, scheduler, name, modelsPerExecutor);
    }

    /** The same spec with another number of model copies per executor JVM. */
    public ModelSpec withModelsPerExecutor(int count) {
        return new ModelSpec(backend, model, classifier, scheduler, variant, count);
    }

    /**
     * The model folder on this machine: the path itself, or the embedded model copied out of the class path.
     *
     * @throws IllegalArgumentException when the folder does not exist
     */
    public Path modelFolder() {
        if (model.startsWith(EMBEDDED_PREFIX)) {
            return EmbeddedModels.folder(model.substring(EMBEDDED_PREFIX.length()));
        }
        Path folder = Path.of(model);
        if (!Files.isDirectory(folder)) {
            throw new IllegalArgumentException("model folder " + folder.toAbsolutePath() + " does not exist on this machine");
        }
        return folder;
    }

    /**
     * The classifier to load for {@code folder} (the result of {@link #modelFolder()}), or null for none.
     *
     * @throws IllegalArgumentException when a named classifier does not exist
     */
    public Path classifierFor(Path folder) {
        if (NO_CLASSIFIER.equals(classifier)) {
            return null;
        }
        if (classifier == null) {
            Path own = folder.resolve("classifier");
            return Files.exists(own) ? own : null;
        }
        Path path = Path.of(classifier);
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("relation classifier " + path.toAbsolutePath() + " does not exist on this machine");
        }
        return path;
    }

    /** The backend's options for this spec on this machine. */
    public SamplerOptions samplerOptions() {
        Path folder = modelFolder();
        SamplerOptions options = SamplerOptions.of(folder).withRelationClassifier(classifierFor(folder));
        if (scheduler != null) {
            options = options.withScheduler(SchedulerType.parse(scheduler));
        }
        if (variant != null) {
            options = options.withVariant(variant);
        }
        return options;
    }
}
