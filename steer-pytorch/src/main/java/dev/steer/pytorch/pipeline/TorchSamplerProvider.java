package dev.steer.pytorch.pipeline;

import dev.steer.core.model.ModelFolder;
import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.engine.SamplerProvider;
import dev.steer.core.generation.Sampler;

/**
 * The LibTorch backend ("pytorch") for {@link dev.steer.core.engine.Backends}: a {@link FluxPipeline}
 * for a folder whose {@code model_index.json} names {@code FluxPipeline}, else a {@link StableDiffusion}.
 */
public final class TorchSamplerProvider implements SamplerProvider {
    @Override
    public String name() {
        return "pytorch";
    }

    @Override
    public Sampler open(SamplerOptions options) {
        if ("FluxPipeline".equals(ModelFolder.open(options.modelFolder(), options.variant()).pipelineClass())) {
            return openFlux(options);
        }
        StableDiffusion.Builder b = StableDiffusion.builder().setModelFolder(options.modelFolder());
        if (options.relationClassifier() != null) {
            b.optRelationClassifier(options.relationClassifier());
        }
        if (options.scheduler() != null) {
            b.optScheduler(options.scheduler());
        }
        if (options.variant() != null) {
            b.optVariant(options.variant());
        }
        if (options.randomWeightsSeed() != null) {
            b.optRandomWeights(options.randomWeightsSeed());
        }
        if (options.progress() != null) {
            b.optProgress(options.progress());
        }
        return b.build();
    }

    private static Sampler openFlux(SamplerOptions options) {
        if (options.scheduler() != null && options.scheduler() != dev.steer.core.scheduler.SchedulerType.FLOW_MATCH_EULER) {
            throw new IllegalArgumentException("FLUX runs with its flow-matching scheduler, not " + options.scheduler().diffusersClassName());
        }
        FluxPipeline.Builder b = FluxPipeline.builder().setModelFolder(options.modelFolder());
        if (options.relationClassifier() != null) {
            b.optRelationClassifier(options.relationClassifier());
        }
        if (options.variant() != null) {
            b.optVariant(options.variant());
        }
        if (options.randomWeightsSeed() != null) {
            b.optRandomWeights(options.randomWeightsSeed());
        }
        if (options.progress() != null) {
            b.optProgress(options.progress());
        }
        return b.build();
    }
}
