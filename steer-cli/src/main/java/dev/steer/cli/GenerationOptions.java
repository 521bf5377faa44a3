package dev.steer.cli;

import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.ModelDefaults;
import dev.steer.core.generation.Sampler;
import java.nio.file.Path;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** What to generate: prompt, seed, steps, guidance, size and where the image goes; settings left out take the model's. */
final class GenerationOptions {
    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "a photo of a purple square above a red circle",
            description = "The prompt.")
    String prompt;

    @Option(names = "--negative", paramLabel = "TEXT", defaultValue = "", showDefaultValue = Visibility.NEVER,
            description = "Negative prompt (classifier-free guidance). Default: none.")
    String negative;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the initial noise.")
    long seed;

    @Option(names = "--size", paramLabel = "WxH", converter = Converters.Size.class, description = "Image size in pixels, e.g. 512x512. "
            + SamplingOptions.MODEL_DEFAULT + "Stable Diffusion's from its UNet (512x512 for SD 1.5, 32x32 for the embedded model); "
            + "for FLUX.1 what the folder declares, else 256x256 for [schnell], 512x512 for [dev].")
    Converters.ImageSize size;

    @Option(names = "--out", paramLabel = "FILE.png", defaultValue = "steer-output.png",
            description = "The image (PNG with prompt, seed, model and settings in text chunks).")
    Path out;

    /** The request; steps, guidance and size left out take {@code defaults}. */
    GenerationRequest.Builder request(ModelDefaults defaults) {
        return GenerationRequest.builder(prompt)
                .optNegativePrompt(negative)
                .optSteps(sampling.steps(defaults))
                .optGuidanceScale(sampling.guidance(defaults))
                .optSeed(seed)
                .optSize(size == null ? 0 : size.width(), size == null ? 0 : size.height());
    }

    /** Generates {@code request} with a progress bar on standard error. */
    static GenerationResult generate(Sampler sampler, GenerationRequest.Builder request) {
        int n = request.build().steps();
        try (StepProgressBar bar = new StepProgressBar("denoising", 1, n)) {
            return sampler.generate(request.optProgressListener(bar).build());
        }
    }
}
