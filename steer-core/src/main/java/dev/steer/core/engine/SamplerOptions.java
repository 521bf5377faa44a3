package dev.steer.core.engine;

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
 */
public record SamplerOptions(Path modelFolder, Path relationClassifier, SchedulerType scheduler, String variant,
        Long randomWeightsSeed) {

    /** Requires the model folder. */
    public SamplerOptions {
        Objects.requireNonNull(modelFolder, "modelFolder");
    }

    /** Options for a model folder and nothing else. */
    public static SamplerOptions of(Path modelFolder) {
        return new SamplerOptions(modelFolder, null, null, null, null);
    }

    /** The same options with a relation classifier. */
    public SamplerOptions withRelationClassifier(Path checkpoint) {
        return new SamplerOptions(modelFolder, checkpoint, scheduler, variant, randomWeightsSeed);
    }

    /** The same options with another scheduler type. */
    public SamplerOptions withScheduler(SchedulerType type) {
        return new SamplerOptions(modelFolder, relationClassifier, type, variant, randomWeightsSeed);
    }

    /** The same options with a weight variant. */
    public SamplerOptions withVariant(String name) {
        return new SamplerOptions(modelFolder, relationClassifier, scheduler, name, randomWeightsSeed);
    }

    /** The same options with seeded random weights. */
    public SamplerOptions withRandomWeights(long seed) {
        return new SamplerOptions(modelFolder, relationClassifier, scheduler, variant, seed);
    }
}
