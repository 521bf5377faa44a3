package dev.steer.cli;

import dev.steer.core.generation.ModelDefaults;
import dev.steer.core.steering.SteeringConfig;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The relation classifier and the steering settings, which default to the ones it was tuned with. */
final class SteeringOptions {
    private static final String RECOMMENDED = "Default: the classifier's steering.json, else the model family's published setting.";

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--classifier", paramLabel = "CHECKPOINT",
            description = "Relation classifier: a Learn-to-Steer .pth checkpoint or a folder steer trained. Default: the model "
                    + "folder's classifier/.")
    Path classifier;

    @Option(names = "--step-size", paramLabel = "A", description = "Gradient step size. " + RECOMMENDED)
    Float stepSize;

    @Option(names = "--iterations", paramLabel = "N", description = "Most refinement iterations per steered step. " + RECOMMENDED)
    Integer iterations;

    @Option(names = "--end-fraction", paramLabel = "F", description = "Steer until this fraction of the schedule. " + RECOMMENDED)
    Double endFraction;

    /** The classifier: --classifier, else the model folder's {@code classifier}; checked to exist. */
    Path checkpoint(Path modelFolder) {
        return ModelOptions.requireExists(command, "--classifier", classifier != null ? classifier : modelFolder.resolve("classifier"));
    }

    /** The classifier's recommended settings (else {@code defaults}'), with the options given put in their place. */
    SteeringConfig config(Path checkpoint, ModelDefaults defaults) {
        SteeringConfig recommended = SteeringConfig.recommendedFor(checkpoint, defaults.steering());
        return recommended
                .withStepSize(stepSize != null ? stepSize : recommended.stepSize())
                .withMaxIterations(iterations != null ? iterations : recommended.maxIterations())
                .withRange(recommended.startFraction(), endFraction != null ? endFraction : recommended.endFraction());
    }
}
