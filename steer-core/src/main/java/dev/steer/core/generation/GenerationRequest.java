package dev.steer.core.generation;

import dev.steer.core.scheduler.SchedulerType;
import dev.steer.core.steering.SteeringRequest;
import java.util.Objects;

/**
 * One text-to-image request. Create with {@link #builder(String)}; everything but the prompt has a
 * default (the model's own size and scheduler, 50 steps, guidance 7.5, seed 0).
 *
 * @param prompt what to draw
 * @param negativePrompt what to steer away from with classifier-free guidance ("" for none)
 * @param width image width in pixels, 0 for the model's default
 * @param height image height in pixels, 0 for the model's default
 * @param steps denoising steps
 * @param guidanceScale classifier-free guidance scale (1 disables the unconditional branch)
 * @param seed seed of the initial noise
 * @param scheduler the scheduler to use, or null for the one in the model folder
 * @param steering Learn-to-Steer settings, or null for plain generation
 * @param progress receives every denoising step; may be null
 * @param cancellation a handle that stops the generation from another thread; may be null (the
 *     generating thread's interrupt stops it too)
 */
public record GenerationRequest(String prompt, String negativePrompt, int width, int height, int steps,
        float guidanceScale, long seed, SchedulerType scheduler, SteeringRequest steering, ProgressListener progress,
        Cancellation cancellation) {

    /** Validates ranges. */
    public GenerationRequest {
        Objects.requireNonNull(prompt, "prompt");
        negativePrompt = negativePrompt == null ? "" : negativePrompt;
        if (steps < 1 || steps > 1000) {
            throw new IllegalArgumentException("steps must be in [1, 1000], got " + steps);
        }
        if (width < 0 || height < 0) {
            throw new IllegalArgumentException("width and height must be positive (or 0 for the model default)");
        }
        if (!(guidanceScale >= 0) || Float.isInfinite(guidanceScale)) {
            throw new IllegalArgumentException("guidance scale must be a finite number >= 0, got " + guidanceScale);
        }
    }

    /**
     * The text chunks a generated PNG carries for this request: prompt, negative prompt, seed, steps,
     * guidance, scheduler, size, model, how the noise was drawn. Backends add their steering entries.
     */
    public java.util.Map<String, String> metadata(String scheduler, int width, int height, String model) {
        java.util.Map<String, String> meta = new java.util.LinkedHashMap<>();
        meta.put("prompt", prompt);
        if (!negativePrompt.isEmpty()) {
            meta.put("negative_prompt", negativePrompt);
        }
        meta.put("seed", Long.toString(seed));
        meta.put("steps", Integer.toString(steps));
        meta.put("guidance_scale", Float.toString(guidanceScale));
        meta.put("scheduler", scheduler);
        meta.put("size", width + "x" + height);
        meta.put("model", model);
        meta.put("noise", "java.util.Random(seed).nextGaussian");
        meta.put("software", "steer");
        return meta;
    }

    /** The same request without steering (the vanilla baseline of a steered one). */
    public GenerationRequest withoutSteering() {
        return new GenerationRequest(prompt, negativePrompt, width, height, steps, guidanceScale, seed, scheduler, null, progress,
                cancellation);
    }

    /** The same request with another seed. */
    public GenerationRequest withSeed(long newSeed) {
        return new GenerationRequest(prompt, negativePrompt, width, height, steps, guidanceScale, newSeed, scheduler, steering,
                progress, cancellation);
    }

    /** The same request with another prompt (steering, when asked, parses the new prompt or uses its explicit relations). */
    public GenerationRequest withPrompt(String newPrompt) {
        return new GenerationRequest(newPrompt, negativePrompt, width, height, steps, guidanceScale, seed, scheduler, steering,
                progress, cancellation);
    }

    /** One request per seed, otherwise equal to this one: the input of {@link Sampler#generateAll} for a list of seeds. */
    public java.util.List<GenerationRequest> withSeeds(long... seeds) {
        java.util.List<GenerationRequest> out = new java.util.ArrayList<>(seeds.length);
        for (long s : seeds) {
            out.add(withSeed(s));
        }
        return out;
    }

    /** A builder with defaults for everything but the prompt. */
    public static Builder builder(String prompt) {
        return new Builder(prompt);
    }

    /** Builds {@link GenerationRequest}s. */
    public static final class Builder {
        private final String prompt;
        private String negativePrompt = "";
        private int width;
        private int height;
        private int steps = 50;
        private float guidanceScale = 7.5f;
        private long seed;
        private SchedulerType scheduler;
        private SteeringRequest steering;
        private ProgressListener progress;
        private Cancellation cancellation;

        private Builder(String prompt) {
            this.prompt = prompt;
        }

        /** Negative prompt for classifier-free guidance. */
        public Builder optNegativePrompt(String negative) {
            this.negativePrompt = negative;
            return this;
        }

        /** Image size in pixels (multiples of the model's latent scale x its UNet's downsampling, e.g. 64 for SD). */
        public Builder optSize(int width, int height) {
            this.width = width;
            this.height = height;
            return this;
        }

        /** Number of denoising steps. */
        public Builder optSteps(int steps) {
            this.steps = steps;
            return this;
        }

        /** Classifier-free guidance scale. */
        public Builder optGuidanceScale(float scale) {
            this.guidanceScale = scale;
            return this;
        }

        /** Seed of the initial noise. */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Scheduler to use instead of the model folder's. */
        public Builder optScheduler(SchedulerType type) {
            this.scheduler = type;
            return this;
        }

        /** Steers the generation with Learn-to-Steer (the sampler needs a relation classifier). */
        public Builder optSteering(SteeringRequest steering) {
            this.steering = steering;
            return this;
        }

        /** Receives every denoising step (progress bars, previews, telemetry). */
        public Builder optProgressListener(ProgressListener listener) {
            this.progress = listener;
            return this;
        }

        /** A handle that stops the generation from another thread. */
        public Builder optCancellation(Cancellation handle) {
            this.cancellation = handle;
            return this;
        }

        /** The request. */
        public GenerationRequest build() {
            return new GenerationRequest(prompt, negativePrompt, width, height, steps, guidanceScale, seed, scheduler, steering,
                    progress, cancellation);
        }
    }
}
