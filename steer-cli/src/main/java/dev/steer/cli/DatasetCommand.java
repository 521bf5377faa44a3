package dev.steer.cli;

import dev.steer.core.dataset.RecordFilters;
import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.generation.Sampler;
import dev.steer.pytorch.dataset.RelationDatasetBuilder;
import dev.steer.pytorch.inversion.ImageFit;
import dev.steer.pytorch.pipeline.FluxPipeline;
import dev.steer.pytorch.pipeline.StableDiffusion;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code steer dataset}: builds a relation-classifier training dataset by dual inversion (see
 * {@code docs/relation-dataset.md}) from a model folder and images described by a JSON Lines
 * manifest, GQA scene graphs and/or COCO instance annotations. Running it again on the same
 * {@code --out} resumes.
 */
@Command(name = "dataset", header = "Build a relation-classifier training dataset by dual inversion.",
        description = {"Builds a relation-classifier training dataset by dual inversion (docs/relation-dataset.md) from images with "
                + "known relations: a JSON Lines manifest, GQA scene graphs and/or COCO instance annotations. Running it again on "
                + "the same --out resumes.",
                "Stable Diffusion folders are inverted with DDIM, FLUX folders along their flow (fixed-point Euler), on LibTorch. "
                        + "Per triplet it costs (1 + negatives) x steps x (iterations + 2) denoiser calls: 700 with the defaults, "
                        + "so a GPU is wanted for real models."})
final class DatasetCommand extends BaseCommand {
    @Option(names = "--model", paramLabel = "DIR", required = true,
            description = "Model folder (Stable Diffusion or FLUX.1, diffusers layout).")
    Path model;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Dataset folder (created, or resumed).")
    Path out;

    @Option(names = "--manifest", paramLabel = "FILE.jsonl",
            description = "JSON Lines manifest of images and relations. Default: none; at least one of --manifest, --gqa, --coco.")
    Path manifest;

    @Option(names = "--gqa", paramLabel = "FILE", description = "GQA scene graphs (with --gqa-images). Default: none.")
    Path gqa;

    @Option(names = "--gqa-images", paramLabel = "DIR", description = "GQA images folder. Default: none.")
    Path gqaImages;

    @Option(names = "--coco", paramLabel = "FILE", description = "COCO instance annotations (with --coco-images). Default: none.")
    Path coco;

    @Option(names = "--coco-images", paramLabel = "DIR", description = "COCO images folder. Default: none.")
    Path cocoImages;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "50", description = "Inversion and re-denoising steps.")
    int steps;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "5", description = "Fixed-point iterations per inversion step.")
    int iterations;

    @Option(names = "--psnr", paramLabel = "DB", defaultValue = "19.5",
            description = "Drop inversions whose reconstruction is below this PSNR.")
    double psnr;

    @Option(names = "--negatives", paramLabel = "N", defaultValue = "1",
            description = "Negative prompts per triplet, each with a different wrong relation (0 to 3).")
    int negatives;

    @Option(names = "--step-indices", paramLabel = "I,J,...", split = ",", defaultValue = "5,10,15,20,25,49",
            description = "The classifier's step indices (of a 50-step schedule) to record.")
    int[] stepIndices;

    @Option(names = "--shard-size", paramLabel = "N", defaultValue = "512",
            description = "Samples per shard: a shard is written once this many are waiting, whole triplets only.")
    int shardSize;

    @Option(names = "--max-triplets", paramLabel = "N", defaultValue = "0",
            description = "Use only the first N valid records as triplets (0: all).")
    int maxTriplets;

    @Option(names = "--stop-after", paramLabel = "N", defaultValue = "0", description = "Stop after this many triplets in this run "
            + "(0: no limit); run again to resume.")
    int stopAfter;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "Seed of the choice of wrong relations for the negative prompts.")
    long seed;

    @Option(names = "--fit", paramLabel = "stretch|crop", converter = Converters.Fit.class, defaultValue = "stretch",
            description = "How images are fitted to the model's size: stretch, or crop (centre crop).")
    ImageFit fit;

    @Option(names = "--min-box-fraction", paramLabel = "F", defaultValue = "0", description = "Skip pairs where a box covers less "
            + "than this fraction of the image area (0 keeps all).")
    double minBoxFraction;

    @Option(names = "--one-instance-per-class", arity = "0..1", paramLabel = "true|false", defaultValue = "true",
            description = "Skip pairs whose subject or object class occurs more than once in the image (GQA, COCO).")
    boolean oneInstancePerClass;

    @Option(names = "--allow-same-name", arity = "0..1", paramLabel = "true|false", defaultValue = "false",
            description = "Keep pairs whose subject and object have the same name.")
    boolean allowSameName;

    @Option(names = "--require-box-agreement", arity = "0..1", paramLabel = "true|false", defaultValue = "false",
            description = "When a record has both a stated relation and boxes, skip it unless the boxes agree with the relation.")
    boolean requireBoxAgreement;

    @Option(names = "--progress-seconds", paramLabel = "S", defaultValue = "10", description = "Seconds between progress lines.")
    long progressSeconds;

    @Option(names = "--variant", paramLabel = "NAME", description = "Weight variant, e.g. fp16. Default: none.")
    String variant;

    @Option(names = "--random-weights", paramLabel = "SEED", description = "Seeded random weights instead of the folder's (for "
            + "trying the workflow). Default: read the weights.")
    Long randomWeights;

    @Override
    public Integer call() throws IOException {
        if (manifest == null && gqa == null && coco == null) {
            throw new ParameterException(spec.commandLine(), "give at least one input: --manifest, --gqa or --coco");
        }
        if ((gqa == null) != (gqaImages == null) || (coco == null) != (cocoImages == null)) {
            throw new ParameterException(spec.commandLine(), "--gqa needs --gqa-images and --coco needs --coco-images");
        }
        RelationDatasetBuilder.Builder builder = RelationDatasetBuilder.builder()
                .setOutputDir(out)
                .optSteps(steps)
                .optFixedPointIterations(iterations)
                .optPsnrThreshold(psnr)
                .optNegativesPerTriplet(negatives)
                .optStepIndices(stepIndices)
                .optShardSize(shardSize)
                .optMaxTriplets(maxTriplets)
                .optStopAfter(stopAfter)
                .optSeed(seed)
                .optProgressInterval(Duration.ofSeconds(progressSeconds))
                .optImageFit(fit)
                .optFilters(RecordFilters.DEFAULTS
                        .withMinBoxFraction(minBoxFraction)
                        .withOneInstancePerClass(oneInstancePerClass)
                        .withAllowSameName(allowSameName)
                        .withRequireBoxAgreement(requireBoxAgreement));
        if (manifest != null) {
            builder.addManifest(manifest);
        }
        if (gqa != null) {
            builder.addGqa(gqa, gqaImages);
        }
        if (coco != null) {
            builder.addCoco(coco, cocoImages);
        }
        SamplerOptions options = SamplerOptions.of(ModelOptions.requireFolder(spec, "--model", model));
        if (variant != null) {
            options = options.withVariant(variant);
        }
        if (randomWeights != null) {
            options = options.withRandomWeights(randomWeights);
        }
        long t0 = System.nanoTime();
        // inversion needs exact gradients: LibTorch
        try (Sampler opened = ModelOptions.open("pytorch", options)) {
            if (opened instanceof StableDiffusion sd) {
                builder.setPipeline(sd);
            } else if (opened instanceof FluxPipeline flux) {
                builder.setPipeline(flux);
            } else {
                throw new IllegalArgumentException("dataset building inverts Stable Diffusion and FLUX folders; "
                        + opened.modelDescription() + " is neither");
            }
            out().printf(Locale.ROOT, "loaded %s in %.2fs%n", opened.modelDescription(), seconds(t0));
            RelationDatasetBuilder.Summary s;
            ProgressBar bar = LoadProgressBar.counter("triplets", -1, " triplets");
            try {
                s = builder.optListener(o -> {
                    if (bar != null) {
                        bar.step();
                    }
                }).build().run();
            } finally {
                if (bar != null) {
                    bar.close();
                }
            }
            out().printf(Locale.ROOT, "%s: %d/%d triplets complete; this run %d triplets, %d samples, %d of %d inversions "
                    + "dropped for low PSNR (mean %.2f dB), %.1fs%n", out, s.alreadyCompleted() + s.processed(),
                    s.triplets(), s.processed(), s.samples(), s.droppedLowPsnr(), s.inversions(), s.meanPsnr(), s.seconds());
            if (!s.complete()) {
                out().println("not complete: run the same command again to resume");
            }
        }
        return 0;
    }
}
