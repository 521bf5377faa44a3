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
 */
public record StageTimings(Duration textEncoding, Duration denoising, Duration steering, Duration decoding, int unetCalls) {

    /** Total time. */
    public Duration total() {
        return textEncoding.plus(denoising).plus(decoding);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "text %.2fs, denoising %.2fs (steering %.2fs, %d denoiser calls), decoding %.2fs, total %.2fs",
                seconds(textEncoding), seconds(denoising), seconds(steering), unetCalls, seconds(decoding), seconds(total()));
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }
}
