package dev.steer.cli;

import dev.steer.core.generation.ModelDefaults;
import picocli.CommandLine.Option;

/** Steps and guidance; left out, they take the model's defaults. */
final class SamplingOptions {
    /** The help text of an option left to the model's defaults. */
    static final String MODEL_DEFAULT = "Default: the model's own (what its folder declares, else its family's: ";

    @Option(names = "--steps", paramLabel = "N", description = "Denoising steps. " + MODEL_DEFAULT
            + "50 for SD, the embedded model included; 4 for FLUX.1 [schnell], 50 for [dev]).")
    Integer steps;

    @Option(names = "--guidance", paramLabel = "G", description = "Guidance scale. " + MODEL_DEFAULT
            + "7.5 for SD, the embedded model included; 0 for FLUX.1 [schnell], 3.5 for [dev]).")
    Float guidance;

    int steps(ModelDefaults defaults) {
        return steps != null ? steps : defaults.steps();
    }

    float guidance(ModelDefaults defaults) {
        return guidance != null ? guidance : defaults.guidanceScale();
    }
}
