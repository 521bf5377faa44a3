package dev.steer.cli;

import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.Sampler;
import java.io.IOException;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code steer generate}: one image, no steering. */
@Command(name = "generate", header = "Generate an image without steering.",
        description = {"Generates one image without steering, with a progress bar, and prints how long each stage took.",
                "Stable Diffusion 1.x/2.x and FLUX.1 folders in the diffusers layout run on LibTorch, Optimum ONNX exports of SD "
                        + "on ONNX Runtime (--backend onnx)."})
final class GenerateCommand extends BaseCommand {
    @Mixin
    ModelOptions model;

    @Mixin
    GenerationOptions generation;

    @Override
    public Integer call() throws IOException {
        long t0 = System.nanoTime();
        try (Sampler sampler = model.open(null)) {
            out().printf(Locale.ROOT, "loaded %s in %.2fs%n", sampler.modelDescription(), seconds(t0));
            GenerationResult result = GenerationOptions.generate(sampler, generation.request(sampler.defaults()));
            result.save(generation.out);
            out().println("stages: " + result.timings());
            out().printf(Locale.ROOT, "per denoising step: %.3fs%n", result.timings().denoising().toNanos() / 1e9 / result.request().steps());
            out().println("wrote " + generation.out.toAbsolutePath());
        }
        return 0;
    }
}
