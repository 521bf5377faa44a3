package dev.steer.cli;

import dev.steer.core.generation.ModelDefaults;
import picocli.CommandLine.Option;

/** Steps and guidance; left out, they take the model's defaults. */
final class SamplingOptions {
    /** The start of the help text of an option left to the model's defaults ({@code Sampler.defaults()}). */
    static final String MODEL_DEFAULT = "Default: the model's own: ";

    @Option(names = "--steps", paramLabel = "N", description = "Denoising steps. " + MODEL_DEFAULT + "50 for Stable Diffusion (the "
            + "embedded model included); for FLUX.1 what the folder declares, else 4 for [schnell], 50 for [dev].")
    Integer steps;

    @Option(names = "--guidance", paramLabel = "G", description = "Guidance scale. " + MODEL_DEFAULT + "7.5 for Stable Diffusion (the "
            + "embedded model included); for FLUX.1 what the folder declares, else 0 for [schnell], 3.5 for [dev].")
    Float guidance;

    /** --steps, else the model's. */
    int steps(ModelDefaults defaults) {
        return steps != null ? steps : defaults.steps();
    }

    /** --guidance, else the model's. */
    float guidance(ModelDefaults defaults) {
        return guidance != null ? guidance : defaults.guidanceScale();
    }
}
