package dev.steer.examples;

import dev.steer.core.engine.Backends;
import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.ModelDefaults;
import dev.steer.core.generation.Sampler;
import dev.steer.core.scheduler.SchedulerType;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * Generates one image from a Stable Diffusion 1.x / 2.x or FLUX.1 folder (diffusers layout on the
 * LibTorch backend, Optimum ONNX layout of SD on ONNX Runtime), with a progress bar, and prints how
 * long each stage took. Steps, guidance and size left out take the model's defaults (SD: 50 steps,
 * guidance 7.5; FLUX.1 [schnell]: 4 steps, no guidance, 256x256; [dev]: 50 steps, guidance 3.5,
 * 512x512).
 *
 * <pre>
 * Generate --model DIR [--backend pytorch|onnx] [--prompt TEXT] [--negative TEXT] [--steps N] [--guidance G] [--seed S]
 *          [--size WxH] [--scheduler ddim|euler|dpm++2m|pndm|flowmatch] [--variant fp16|bf16]
 *          [--random-weights SEED] [--out FILE.png]
 * </pre>
 */
public final class Generate {
    static final Set<String> FLAGS = Set.of("--model", "--backend", "--prompt", "--negative", "--steps", "--guidance", "--seed", "--size",
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
            System.err.println("usage: Generate --model DIR [--backend pytorch|onnx] [--prompt TEXT] [--negative TEXT] [--steps N] [--guidance G] [--seed S]\n"
                    + "                [--size WxH] [--scheduler ddim|euler|dpm++2m|pndm|flowmatch] [--variant fp16|bf16]\n"
                    + "                [--random-weights SEED] [--out FILE.png]");
            System.exit(2);
            return;
        }
        long t0 = System.nanoTime();
        try (Sampler sd = open(a, null)) {
            System.out.printf(Locale.ROOT, "loaded %s in %.2fs%n", sd.modelDescription(), (System.nanoTime() - t0) / 1e9);
            GenerationResult result = generate(sd, request(a, "a photo of a dog right of a teddy bear", sd.defaults()));
            Path out = Path.of(a.get("--out", "steer-output.png"));
            result.save(out);
            System.out.println("stages: " + result.timings());
            System.out.printf(Locale.ROOT, "per denoising step: %.3fs%n", result.timings().denoising().toNanos() / 1e9 / result.request().steps());
            System.out.println("wrote " + out.toAbsolutePath());
        }
    }

    /** Loads the model on the backend the shared flags name, with a relation classifier when one is given. */
    static Sampler open(Args a, Path classifier) {
        SamplerOptions options = SamplerOptions.of(Path.of(a.get("--model", "."))).withRelationClassifier(classifier);
        if (a.has("--variant")) {
            options = options.withVariant(a.get("--variant", null));
        }
        if (a.has("--random-weights")) {
            options = options.withRandomWeights(a.getLong("--random-weights", 0));
        }
        if (a.has("--scheduler")) {
            options = options.withScheduler(SchedulerType.parse(a.get("--scheduler", null)));
        }
        return Backends.open(a.get("--backend", "pytorch"), options);
    }

    /** Generates with a progress bar on standard error. */
    static GenerationResult generate(Sampler sd, GenerationRequest.Builder request) {
        int steps = request.build().steps();
        try (StepProgressBar bar = new StepProgressBar("denoising", 1, steps)) {
            return sd.generate(request.optProgressListener(bar).build());
        }
    }

    /** The request for the shared generation flags; steps, guidance and size left out take the model's defaults. */
    static GenerationRequest.Builder request(Args a, String defaultPrompt, ModelDefaults defaults) {
        int[] size = a.size("--size");
        return GenerationRequest.builder(a.get("--prompt", defaultPrompt))
                .optNegativePrompt(a.get("--negative", ""))
                .optSteps(a.getInt("--steps", defaults.steps()))
                .optGuidanceScale(a.getFloat("--guidance", defaults.guidanceScale()))
                .optSeed(a.getLong("--seed", 0))
                .optSize(size[0], size[1]);
    }
}
