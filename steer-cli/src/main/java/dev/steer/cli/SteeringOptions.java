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

    @Option(names = "--margin", paramLabel = "M", description = "Stop refining a step once the asked relation's probability "
            + "leads every other class by M (0: only the loss targets stop a step). " + RECOMMENDED)
    Double margin;

    @Option(names = "--noise-candidates", paramLabel = "K", description = "Initial noises to choose among by the classifier's "
            + "first-step loss (1: the seed's own). " + RECOMMENDED)
    Integer noiseCandidates;

    @Option(names = "--selection-step", paramLabel = "S", description = "The step at which the noise candidates are compared: "
            + "each is denoised without steering up to it (0: compared on the noise itself). " + RECOMMENDED)
    Integer selectionStep;

    @Option(names = "--separate-words", paramLabel = "true|false", arity = "0..1", description = "Among noise candidates on "
            + "which the asked relations already lead by the margin, choose the one whose words' attention maps overlap least. "
            + RECOMMENDED)
    Boolean separateWords;

    @Option(names = "--normalized-steps", paramLabel = "true|false", arity = "0..1", description = "Gradient steps of "
            + "step-size x grad / rms(grad) instead of step-size x grad. " + RECOMMENDED)
    Boolean normalizedSteps;

    @Option(names = "--backtracking", paramLabel = "true|false", arity = "0..1", description = "Undo an update that raised "
            + "the loss and halve the step. " + RECOMMENDED)
    Boolean backtracking;

    @Option(names = "--final-evaluation", paramLabel = "true|false", arity = "0..1", description = "Evaluate the loss once more "
            + "after a step's last update, for the report (one model pass per steered step). " + RECOMMENDED)
    Boolean finalEvaluation;

    @Option(names = "--reference", description = "Start from the published Learn-to-Steer settings (SteeringConfig.REFERENCE) "
            + "instead of the classifier's steering.json; the options above still apply.")
    boolean reference;

    /** The classifier: --classifier, else the model folder's {@code classifier}; checked to exist. */
    Path checkpoint(Path modelFolder) {
        return ModelOptions.requireExists(command, "--classifier", classifier != null ? classifier : modelFolder.resolve("classifier"));
    }

    /**
     * The classifier's recommended settings on {@code backend} (else {@code defaults}'), with the
     * options given put in their place.
     */
    SteeringConfig config(Path checkpoint, ModelDefaults defaults, String backend) {
        SteeringConfig recommended = reference ? SteeringConfig.REFERENCE
                : SteeringConfig.recommendedFor(checkpoint, defaults.steering(), backend);
        return recommended
                .withStepSize(stepSize != null ? stepSize : recommended.stepSize())
                .withMaxIterations(iterations != null ? iterations : recommended.maxIterations())
                .withRange(recommended.startFraction(), endFraction != null ? endFraction : recommended.endFraction())
                .withMargin(margin != null ? margin : recommended.margin())
                .withNoiseCandidates(noiseCandidates != null ? noiseCandidates : recommended.noiseCandidates())
                .withSelectionStep(selectionStep != null ? selectionStep : recommended.selectionStep())
                .withSeparateWords(separateWords != null ? separateWords : recommended.separateWords())
                .withNormalizedSteps(normalizedSteps != null ? normalizedSteps : recommended.normalizedSteps())
                .withBacktracking(backtracking != null ? backtracking : recommended.backtracking())
                .withFinalEvaluation(finalEvaluation != null ? finalEvaluation : recommended.finalEvaluation());
    }
}
