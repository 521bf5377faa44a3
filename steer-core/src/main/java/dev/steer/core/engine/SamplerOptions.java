package dev.steer.core.engine;

import ai.djl.util.Progress;
import dev.steer.core.scheduler.SchedulerType;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What to load into a {@link dev.steer.core.generation.Sampler} through {@link Backends}: a model
 * folder and the optional parts every backend understands. Start with {@link #of(Path)}.
 *
 * @param modelFolder the model folder (diffusers layout for LibTorch, Optimum ONNX layout for ONNX Runtime)
 * @param relationClassifier a relation classifier checkpoint for steering, or null
 * @param scheduler a scheduler type to use instead of the folder's, or null
 * @param variant a weight variant such as "fp16", or null (backends without variants refuse one)
 * @param randomWeightsSeed fill the model with seeded random weights instead of reading them, or null
 *     (for benchmarks of real-size architectures; backends that cannot refuse it)
 * @param progress told how loading the model goes (the backends' {@code optProgress}), or null
 */
public record SamplerOptions(Path modelFolder, Path relationClassifier, SchedulerType scheduler, String variant,
        Long randomWeightsSeed, Progress progress) {

    /** Requires the model folder. */
    public SamplerOptions {
        Objects.requireNonNull(modelFolder, "modelFolder");
    }

    /** Options without a progress listener (the options this record had before {@code progress}). */
    public SamplerOptions(Path modelFolder, Path relationClassifier, SchedulerType scheduler, String variant, Long randomWeightsSeed) {
        this(modelFolder, relationClassifier, scheduler, variant, randomWeightsSeed, null);
    }

    /** Options for a model folder and nothing else. */
    public static SamplerOptions of(Path modelFolder) {
        return new SamplerOptions(modelFolder, null, null, null, null, null);
    }

    /** The same options with a relation classifier. */
    public SamplerOptions withRelationClassifier(Path checkpoint) {
        return new SamplerOptions(modelFolder, checkpoint, scheduler, variant, randomWeightsSeed, progress);
    }

    /** The same options with another scheduler type. */
    public SamplerOptions withScheduler(SchedulerType type) {
        return new SamplerOptions(modelFolder, relationClassifier, type, variant, randomWeightsSeed, progress);
    }

    /** The same options with a weight variant. */
    public SamplerOptions withVariant(String name) {
        return new SamplerOptions(modelFolder, relationClassifier, scheduler, name, randomWeightsSeed, progress);
    }

    /** The same options with seeded random weights. */
    public SamplerOptions withRandomWeights(long seed) {
        return new SamplerOptions(modelFolder, relationClassifier, scheduler, variant, seed, progress);
    }

    /** The same options with a listener told how loading the model goes (see the backends' {@code optProgress}). */
    public SamplerOptions withProgress(Progress listener) {
        return new SamplerOptions(modelFolder, relationClassifier, scheduler, variant, randomWeightsSeed, listener);
    }
}
