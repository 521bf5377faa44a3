package dev.steer.pytorch.pipeline;

import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.engine.SamplerProvider;
import dev.steer.core.generation.Sampler;

/** The LibTorch backend ("pytorch") for {@link dev.steer.core.engine.Backends}: a {@link StableDiffusion}. */
public final class TorchSamplerProvider implements SamplerProvider {
    @Override
    public String name() {
        return "pytorch";
    }

    @Override
    public Sampler open(SamplerOptions options) {
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
        return b.build();
    }
}
