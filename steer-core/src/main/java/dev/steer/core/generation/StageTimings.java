package dev.steer.core.generation;

import java.time.Duration;
import java.util.Locale;

/**
 * Where a generation spent its time.
 *
 * @param textEncoding tokenising and encoding prompt and negative prompt
 * @param denoising the whole denoising loop (denoiser calls, guidance, scheduler, steering)
 * @param steering the part of denoising spent steering
 * @param decoding VAE decoding and conversion to an image
 * @param unetCalls number of denoiser (UNet or FLUX transformer) forward calls made
 * @param latentEvaluations latents the denoiser evaluated for the loop and for steering: one per
 *     denoising step (its classifier-free-guidance pair counted once, as in {@code unetCalls}), and
 *     for steering as many as its calls held (a forward-only gradient estimate evaluates 2n + 1
 *     latents in one call; an exact gradient one latent, forward and backward)
 */
public record StageTimings(Duration textEncoding, Duration denoising, Duration steering, Duration decoding, int unetCalls,
        int latentEvaluations) {

    /** Timings of a generation whose every denoiser call evaluated one latent. */
    public StageTimings(Duration textEncoding, Duration denoising, Duration steering, Duration decoding, int unetCalls) {
        this(textEncoding, denoising, steering, decoding, unetCalls, unetCalls);
    }

    /** Total time. */
    public Duration total() {
        return textEncoding.plus(denoising).plus(decoding);
    }

    @Override
    public String toString() {
        String latents = latentEvaluations == unetCalls ? "" : String.format(Locale.ROOT, " on %d latents", latentEvaluations);
        return String.format(Locale.ROOT, "text %.2fs, denoising %.2fs (steering %.2fs, %d denoiser calls%s), decoding %.2fs, total %.2fs",
                seconds(textEncoding), seconds(denoising), seconds(steering), unetCalls, latents, seconds(decoding), seconds(total()));
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }
}
