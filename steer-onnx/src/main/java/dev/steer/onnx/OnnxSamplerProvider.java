package dev.steer.onnx;

import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.engine.SamplerProvider;
import dev.steer.core.generation.Sampler;

/** The ONNX Runtime backend ("onnx") for {@link dev.steer.core.engine.Backends}: an {@link OnnxStableDiffusion}. */
public final class OnnxSamplerProvider implements SamplerProvider {
    @Override
    public String name() {
        return "onnx";
    }

    @Override
    public Sampler open(SamplerOptions options) {
        if (options.variant() != null) {
            throw new IllegalArgumentException("the ONNX backend has no weight variants (got '" + options.variant()
                    + "'): export the variant you want as its own folder");
        }
        if (options.randomWeightsSeed() != null) {
            throw new IllegalArgumentException("the ONNX backend cannot fill a graph with random weights; use the pytorch backend");
        }
        OnnxStableDiffusion.Builder b = OnnxStableDiffusion.builder().setModelFolder(options.modelFolder());
        if (options.relationClassifier() != null) {
            b.optRelationClassifier(options.relationClassifier());
        }
        if (options.scheduler() != null) {
            b.optScheduler(options.scheduler());
        }
        if (options.progress() != null) {
            b.optProgress(options.progress());
        }
        return b.build();
    }
}
