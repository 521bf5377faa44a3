package dev.steer.cli;

import dev.steer.core.engine.Backends;
import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.generation.Sampler;
import dev.steer.core.scheduler.SchedulerType;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The model options of the commands that generate: which folder, on which backend, with what. */
final class ModelOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--model", paramLabel = "DIR", defaultValue = SteerHome.PREFIX + SteerHome.EMBEDDED_MODEL,
            description = "Model folder: Stable Diffusion 1.x/2.x or FLUX.1 in the diffusers layout (LibTorch), an Optimum ONNX "
                    + "export of SD (--backend onnx). The default is the embedded ShapeWorld model.")
    Path model;

    @Option(names = "--backend", paramLabel = "pytorch|onnx", defaultValue = "pytorch",
            description = "Backend: pytorch (LibTorch, exact gradients) or onnx (ONNX Runtime, estimated gradients).")
    String backend;

    @Option(names = "--scheduler", paramLabel = "NAME", converter = Converters.Scheduler.class,
            description = "Scheduler instead of the folder's: ddim, euler, dpm++2m, pndm or flowmatch. Default: the folder's.")
    SchedulerType scheduler;

    @Option(names = "--variant", paramLabel = "NAME", description = "Weight variant, e.g. fp16 (reads *.fp16.safetensors). Default: none.")
    String variant;

    @Option(names = "--random-weights", paramLabel = "SEED",
            description = "Fill the model with seeded random weights instead of reading its weights (for timing real-size "
                    + "architectures). Default: read the weights.")
    Long randomWeights;

    /** The model folder, checked to exist (one line naming it otherwise). */
    Path folder() {
        return requireFolder(command, "--model", model);
    }

    /** Loads the model with {@code classifier} (or none when null), with a progress bar on a terminal. */
    Sampler open(Path classifier) {
        SamplerOptions options = SamplerOptions.of(folder()).withRelationClassifier(classifier).withScheduler(scheduler);
        if (variant != null) {
            options = options.withVariant(variant);
        }
        if (randomWeights != null) {
            options = options.withRandomWeights(randomWeights);
        }
        return open(backend, options);
    }

    /** Opens {@code options} on {@code backend}, with a loading progress bar when on a terminal. */
    static Sampler open(String backend, SamplerOptions options) {
        LoadProgressBar bar = LoadProgressBar.onTerminal();
        try {
            return Backends.open(backend, options.withProgress(bar));
        } finally {
            if (bar != null) {
                bar.close();
            }
        }
    }

    /**
     * {@code folder} when it is a folder, else a usage error naming the option; a default that names
     * the embedded model says where it was looked for.
     */
    static Path requireFolder(CommandSpec command, String option, Path folder) {
        if (Files.isDirectory(folder)) {
            return folder;
        }
        boolean given = command.commandLine().getParseResult().hasMatchedOption(option);
        if (!given && folder.endsWith(SteerHome.EMBEDDED_MODEL)) {
            throw new ParameterException(command.commandLine(), "the embedded model was not found (" + SteerHome.lookedIn()
                    + "); name a model folder with " + option + " DIR");
        }
        throw new ParameterException(command.commandLine(), option + ": no folder " + folder.toAbsolutePath()
                + (given ? "" : " (the default)"));
    }

    /** {@code file} when it exists, else a usage error naming the option. */
    static Path requireExists(CommandSpec command, String option, Path file) {
        if (Files.exists(file)) {
            return file;
        }
        boolean given = command.commandLine().getParseResult().hasMatchedOption(option);
        throw new ParameterException(command.commandLine(), option + ": no such file or folder " + file.toAbsolutePath()
                + (given ? "" : " (the default)"));
    }
}
