package dev.steer.examples;

import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.scheduler.SchedulerType;
import dev.steer.pytorch.pipeline.StableDiffusion;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * Generates one image from a Stable Diffusion 1.x / 2.x folder in the diffusers layout and prints
 * how long each stage took.
 *
 * <pre>
 * Generate --model DIR [--prompt TEXT] [--negative TEXT] [--steps N] [--guidance G] [--seed S]
 *          [--size WxH] [--scheduler ddim|euler|dpm++2m|pndm] [--variant fp16]
 *          [--random-weights SEED] [--out FILE.png]
 * </pre>
 */
public final class Generate {
    static final Set<String> FLAGS = Set.of("--model", "--prompt", "--negative", "--steps", "--guidance", "--seed", "--size",
            "--scheduler", "--variant", "--random-weights", "--out");

    private Generate() {
    }

    /** Entry point. */
    public static void main(String[] argv) throws Exception {
        Args a;
        try {
            a = Args.parse(argv, FLAGS);
            if (!a.has("--model")) {
                throw new IllegalArgumentException("--model is required");
            }
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("usage: Generate --model DIR [--prompt TEXT] [--negative TEXT] [--steps N] [--guidance G] [--seed S]\n"
                    + "                [--size WxH] [--scheduler ddim|euler|dpm++2m|pndm] [--variant fp16]\n"
                    + "                [--random-weights SEED] [--out FILE.png]");
            System.exit(2);
            return;
        }
        long t0 = System.nanoTime();
        try (StableDiffusion sd = loader(a).build()) {
            System.out.printf(Locale.ROOT, "loaded %s in %.2fs%n", sd.modelDescription(), (System.nanoTime() - t0) / 1e9);
            GenerationResult result = sd.generate(request(a, "a photo of a dog right of a teddy bear").build());
            Path out = Path.of(a.get("--out", "steer-output.png"));
            result.save(out);
            System.out.println("stages: " + result.timings());
            System.out.printf(Locale.ROOT, "per denoising step: %.3fs%n", result.timings().denoising() / 1e9 / result.request().steps());
            System.out.println("wrote " + out.toAbsolutePath());
        }
    }

    /** The pipeline builder for the shared model flags. */
    static StableDiffusion.Builder loader(Args a) {
        StableDiffusion.Builder builder = StableDiffusion.builder().setModelFolder(Path.of(a.get("--model", ".")));
        if (a.has("--variant")) {
            builder.optVariant(a.get("--variant", null));
        }
        if (a.has("--random-weights")) {
            builder.optRandomWeights(a.getLong("--random-weights", 0));
        }
        if (a.has("--scheduler")) {
            builder.optScheduler(SchedulerType.parse(a.get("--scheduler", null)));
        }
        return builder;
    }

    /** The request for the shared generation flags. */
    static GenerationRequest.Builder request(Args a, String defaultPrompt) {
        int[] size = a.size("--size");
        return GenerationRequest.builder(a.get("--prompt", defaultPrompt))
                .optNegativePrompt(a.get("--negative", ""))
                .optSteps(a.getInt("--steps", 25))
                .optGuidanceScale(a.getFloat("--guidance", 7.5f))
                .optSeed(a.getLong("--seed", 0))
                .optSize(size[0], size[1]);
    }
}
