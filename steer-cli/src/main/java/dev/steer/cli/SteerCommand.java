package dev.steer.cli;

import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.Sampler;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.steering.SteeringRequest;
import dev.steer.core.steering.SteeringStepReport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code steer steer}: a Learn-to-Steer generation, the project's main job. */
@Command(name = "steer", header = "Generate an image steered to the spatial relation the prompt asks for (Learn-to-Steer).",
        description = {"Generates an image with Learn-to-Steer: the relation classifier's loss against the relation the prompt asks "
                + "for steers the latent during the early denoising steps.",
                "Prints, per steered step, the loss before and after, iterations, time and the classifier's probabilities; writes "
                        + "the image and, with --pictures, each steered step's predicted image with the subject's and object's "
                        + "attention heatmaps beside the vanilla run of the same seed."})
final class SteerCommand extends BaseCommand {
    @Mixin
    ModelOptions model;

    @Mixin
    GenerationOptions generation;

    @Option(names = "--subject", paramLabel = "WORD", description = "The relation's subject word (with --relation and --object). "
            + "Default: the relations are parsed from the prompt.")
    String subject;

    @Option(names = "--relation", paramLabel = "PHRASE", converter = Converters.Relation.class,
            description = "The relation (with --subject and --object): left of, right of, above, below, or a synonym (on top of, "
                    + "under, ...). Default: parsed from the prompt.")
    SpatialRelation relation;

    @Option(names = "--object", paramLabel = "WORD", description = "The relation's object word (with --subject and --relation). "
            + "Default: parsed from the prompt.")
    String object;

    @Mixin
    SteeringOptions steering;

    @Option(names = "--pictures", paramLabel = "DIR", description = "Write each steered step's picture (heatmaps beside the vanilla "
            + "run) to this folder. Default: none.")
    Path pictures;

    @Override
    public Integer call() throws IOException {
        if ((subject != null || relation != null || object != null) && (subject == null || relation == null || object == null)) {
            throw new ParameterException(spec.commandLine(), "--subject, --relation and --object go together");
        }
        Path checkpoint = steering.checkpoint(model.folder());
        long t0 = System.nanoTime();
        try (Sampler sampler = model.open(checkpoint)) {
            out().printf(Locale.ROOT, "loaded %s in %.2fs%n", sampler.modelDescription(), seconds(t0));
            SteeringRequest request = subject != null ? SteeringRequest.of(RelationTriplet.of(subject, relation, object))
                    : SteeringRequest.fromPrompt();
            request = request.withConfig(steering.config(checkpoint, sampler.defaults(), model.backend)).withListener(this::print);
            if (pictures != null) {
                request = request.withPictures(pictures);
            }
            GenerationResult result = GenerationOptions.generate(sampler, generation.request(sampler.defaults()).optSteering(request));
            result.save(generation.out);
            if (result.metadata().containsKey("steering_noise")) {
                out().println("initial noise: " + result.metadata().get("steering_noise"));
            }
            out().println("steering: " + result.metadata().get("steering_summary"));
            out().println("stages: " + result.timings());
            out().println("wrote " + generation.out.toAbsolutePath()
                    + (pictures != null ? " and heatmap pictures in " + pictures.toAbsolutePath() : ""));
        }
        return 0;
    }

    private void print(SteeringStepReport r) {
        float[] p = r.probabilities();
        String[] probs = new String[p.length];
        for (int i = 0; i < p.length; i++) {
            probs[i] = String.format(Locale.ROOT, "%.3f", p[i]);
        }
        out().printf(Locale.ROOT, "step %2d: loss %.4g -> %.4g in %d iterations, %.2fs, p=%s%s%n", r.stepIndex(), r.lossBefore(),
                r.lossAfter(), r.iterations(), r.time().toNanos() / 1e9, Arrays.toString(probs),
                r.abandoned() == null ? "" : " (stopped: " + r.abandoned() + ")");
    }
}
