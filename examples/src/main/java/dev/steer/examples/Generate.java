package dev.steer.examples;

import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.scheduler.SchedulerType;
import dev.steer.pytorch.pipeline.StableDiffusion;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;

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
    private Generate() {
    }

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        Deque<String> a = new ArrayDeque<>(List.of(args));
        Path model = null;
        Path out = Path.of("steer-output.png");
        String prompt = "a photo of a dog right of a teddy bear";
        String negative = "";
        int steps = 25;
        float guidance = 7.5f;
        long seed = 0;
        int width = 0;
        int height = 0;
        SchedulerType scheduler = null;
        String variant = null;
        Long randomWeights = null;
        while (!a.isEmpty()) {
            String flag = a.pop();
            switch (flag) {
                case "--model" -> model = Path.of(value(a, flag));
                case "--prompt" -> prompt = value(a, flag);
                case "--negative" -> negative = value(a, flag);
                case "--steps" -> steps = Integer.parseInt(value(a, flag));
                case "--guidance" -> guidance = Float.parseFloat(value(a, flag));
                case "--seed" -> seed = Long.parseLong(value(a, flag));
                case "--size" -> {
                    String[] wh = value(a, flag).toLowerCase(Locale.ROOT).split("x");
                    width = Integer.parseInt(wh[0]);
                    height = Integer.parseInt(wh[wh.length - 1]);
                }
                case "--scheduler" -> scheduler = SchedulerType.parse(value(a, flag));
                case "--variant" -> variant = value(a, flag);
                case "--random-weights" -> randomWeights = Long.parseLong(value(a, flag));
                case "--out" -> out = Path.of(value(a, flag));
                case "--help", "-h" -> {
                    usage();
                    return;
                }
                default -> {
                    System.err.println("unknown option " + flag);
                    usage();
                    System.exit(2);
                }
            }
        }
        if (model == null) {
            usage();
            System.exit(2);
        }
        long t0 = System.nanoTime();
        StableDiffusion.Builder builder = StableDiffusion.builder().setModelFolder(model);
        if (variant != null) {
            builder.optVariant(variant);
        }
        if (randomWeights != null) {
            builder.optRandomWeights(randomWeights);
        }
        if (scheduler != null) {
            builder.optScheduler(scheduler);
        }
        try (StableDiffusion sd = builder.build()) {
            System.out.printf(Locale.ROOT, "loaded %s in %.2fs%n", sd.modelDescription(), (System.nanoTime() - t0) / 1e9);
            GenerationRequest request = GenerationRequest.builder(prompt)
                    .optNegativePrompt(negative)
                    .optSteps(steps)
                    .optGuidanceScale(guidance)
                    .optSeed(seed)
                    .optSize(width, height)
                    .build();
            GenerationResult result = sd.generate(request);
            result.save(out);
            System.out.println("stages: " + result.timings());
            System.out.printf(Locale.ROOT, "per denoising step: %.3fs%n", result.timings().denoising() / 1e9 / steps);
            System.out.println("wrote " + out.toAbsolutePath());
        }
    }

    private static String value(Deque<String> a, String flag) {
        if (a.isEmpty()) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return a.pop();
    }

    private static void usage() {
        System.err.println("usage: Generate --model DIR [--prompt TEXT] [--negative TEXT] [--steps N] [--guidance G] [--seed S]\n"
                + "                [--size WxH] [--scheduler ddim|euler|dpm++2m|pndm] [--variant fp16]\n"
                + "                [--random-weights SEED] [--out FILE.png]");
    }
}
