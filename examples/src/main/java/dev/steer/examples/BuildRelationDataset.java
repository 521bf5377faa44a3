package dev.steer.examples;

import dev.steer.core.dataset.RecordFilters;
import dev.steer.pytorch.dataset.RelationDatasetBuilder;
import dev.steer.pytorch.inversion.ImageFit;
import dev.steer.core.generation.Sampler;
import dev.steer.pytorch.pipeline.FluxPipeline;
import dev.steer.pytorch.pipeline.StableDiffusion;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * Builds a relation-classifier training dataset by dual inversion (see {@code docs/relation-dataset.md})
 * from a user's Stable Diffusion folder and images described by a JSON Lines manifest, GQA scene
 * graphs and/or COCO instance annotations. Running it again on the same {@code --out} resumes.
 *
 * <pre>
 * BuildRelationDataset --model DIR --out DIR [--manifest FILE.jsonl] [--gqa FILE --gqa-images DIR]
 *     [--coco FILE --coco-images DIR] [--steps 50] [--iterations 5] [--psnr 19.5] [--negatives 1]
 *     [--step-indices 5,10,15,20,25,49] [--shard-size 512] [--max-triplets N] [--stop-after N] [--seed 0]
 *     [--fit stretch|crop] [--min-box-fraction 0] [--one-instance-per-class true] [--allow-same-name false]
 *     [--require-box-agreement false] [--progress-seconds 10] [--variant fp16] [--random-weights SEED]
 * </pre>
 * Run it with {@code mvn -pl examples exec:exec -Dmain=dev.steer.examples.BuildRelationDataset -Dargs="..."}.
 * Stable Diffusion folders are inverted with DDIM, FLUX folders along their flow (fixed-point Euler).
 * Per triplet it costs {@code (1 + negatives) x steps x (iterations + 2)} denoiser calls (inversion with
 * fixed-point iterations, then re-denoising): 700 with the defaults, so a GPU is wanted for real models.
 */
public final class BuildRelationDataset {
    static final Set<String> FLAGS = Set.of("--model", "--out", "--manifest", "--gqa", "--gqa-images", "--coco", "--coco-images",
            "--steps", "--iterations", "--psnr", "--negatives", "--step-indices", "--shard-size", "--max-triplets", "--stop-after",
            "--seed", "--fit", "--min-box-fraction", "--one-instance-per-class", "--allow-same-name", "--require-box-agreement",
            "--progress-seconds", "--variant", "--random-weights");

    private BuildRelationDataset() {
    }

    /** Entry point. */
    public static void main(String[] argv) throws Exception {
        Args a;
        RelationDatasetBuilder.Builder builder = RelationDatasetBuilder.builder();
        try {
            a = Args.parse(argv, FLAGS);
            if (!a.has("--model") || !a.has("--out")) {
                throw new IllegalArgumentException("--model and --out are required");
            }
            if (!a.has("--manifest") && !a.has("--gqa") && !a.has("--coco")) {
                throw new IllegalArgumentException("give at least one input: --manifest, --gqa or --coco");
            }
            if (a.has("--gqa") != a.has("--gqa-images") || a.has("--coco") != a.has("--coco-images")) {
                throw new IllegalArgumentException("--gqa needs --gqa-images and --coco needs --coco-images");
            }
            builder.setOutputDir(Path.of(a.get("--out", null)))
                    .optSteps(a.getInt("--steps", 50))
                    .optFixedPointIterations(a.getInt("--iterations", 5))
                    .optPsnrThreshold(Double.parseDouble(a.get("--psnr", "19.5")))
                    .optNegativesPerTriplet(a.getInt("--negatives", 1))
                    .optShardSize(a.getInt("--shard-size", 512))
                    .optMaxTriplets(a.getInt("--max-triplets", 0))
                    .optStopAfter(a.getInt("--stop-after", 0))
                    .optSeed(a.getLong("--seed", 0))
                    .optProgressInterval(Duration.ofSeconds(a.getLong("--progress-seconds", 10)))
                    .optImageFit(fit(a.get("--fit", "stretch")))
                    .optFilters(RecordFilters.DEFAULTS
                            .withMinBoxFraction(Double.parseDouble(a.get("--min-box-fraction", "0")))
                            .withOneInstancePerClass(bool(a, "--one-instance-per-class", true))
                            .withAllowSameName(bool(a, "--allow-same-name", false))
                            .withRequireBoxAgreement(bool(a, "--require-box-agreement", false)));
            if (a.has("--step-indices")) {
                builder.optStepIndices(Arrays.stream(a.get("--step-indices", "").split(",")).map(String::trim)
                        .mapToInt(Integer::parseInt).toArray());
            }
            if (a.has("--manifest")) {
                builder.addManifest(Path.of(a.get("--manifest", null)));
            }
            if (a.has("--gqa")) {
                builder.addGqa(Path.of(a.get("--gqa", null)), Path.of(a.get("--gqa-images", null)));
            }
            if (a.has("--coco")) {
                builder.addCoco(Path.of(a.get("--coco", null)), Path.of(a.get("--coco-images", null)));
            }
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("usage: BuildRelationDataset --model DIR --out DIR [--manifest FILE.jsonl] [--gqa FILE --gqa-images DIR]\n"
                    + "           [--coco FILE --coco-images DIR] [--steps 50] [--iterations 5] [--psnr 19.5] [--negatives 1]\n"
                    + "           [--step-indices 5,10,15,20,25,49] [--shard-size 512] [--max-triplets N] [--stop-after N]\n"
                    + "           [--seed 0] [--fit stretch|crop] [--min-box-fraction 0] [--one-instance-per-class true]\n"
                    + "           [--allow-same-name false] [--require-box-agreement false] [--progress-seconds 10]\n"
                    + "           [--variant fp16] [--random-weights SEED]");
            System.exit(2);
            return;
        }
        long t0 = System.nanoTime();
        Sampler opened = Generate.open(a, null);
        if (opened instanceof StableDiffusion sd) {
            builder.setPipeline(sd);
        } else if (opened instanceof FluxPipeline flux) {
            builder.setPipeline(flux);
        } else {
            opened.close();
            System.err.println("dataset building inverts images with exact gradients: it runs on --backend pytorch");
            System.exit(2);
            return;
        }
        try (Sampler model = opened) {
            System.out.printf(Locale.ROOT, "loaded %s in %.2fs%n", model.modelDescription(), (System.nanoTime() - t0) / 1e9);
            RelationDatasetBuilder.Summary s;
            try {
                s = builder.build().run();
            } catch (IllegalStateException | IllegalArgumentException e) {
                System.err.println(e.getMessage());
                System.exit(1);
                return;
            }
            System.out.printf(Locale.ROOT, "%s: %d/%d triplets complete; this run %d triplets, %d samples, %d of %d inversions "
                    + "dropped for low PSNR (mean %.2f dB), %.1fs%n", a.get("--out", ""), s.alreadyCompleted() + s.processed(),
                    s.triplets(), s.processed(), s.samples(), s.droppedLowPsnr(), s.inversions(), s.meanPsnr(), s.seconds());
            if (!s.complete()) {
                System.out.println("not complete: run the same command again to resume");
            }
        }
    }

    private static ImageFit fit(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "stretch" -> ImageFit.STRETCH;
            case "crop", "center-crop" -> ImageFit.CENTER_CROP;
            default -> throw new IllegalArgumentException("--fit is stretch or crop, got " + v);
        };
    }

    private static boolean bool(Args a, String flag, boolean fallback) {
        if (!a.has(flag)) {
            return fallback;
        }
        String v = a.get(flag, "").toLowerCase(Locale.ROOT);
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException(flag + " is true or false, got " + v);
        }
        return Boolean.parseBoolean(v);
    }
}
