package dev.steer.core.generation;

/**
 * Where a generation spent its time, in nanoseconds.
 *
 * @param textEncoding tokenising and encoding prompt and negative prompt
 * @param denoising the whole denoising loop (denoiser calls, guidance, scheduler, steering)
 * @param steering the part of denoising spent steering
 * @param decoding VAE decoding and conversion to an image
 * @param unetCalls number of denoiser (UNet or FLUX transformer) forward calls made
 */
public record StageTimings(long textEncoding, long denoising, long steering, long decoding, int unetCalls) {

    /** Total time. */
    public long total() {
        return textEncoding + denoising + decoding;
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "text %.2fs, denoising %.2fs (steering %.2fs, %d denoiser calls), decoding %.2fs, total %.2fs",
                textEncoding / 1e9, denoising / 1e9, steering / 1e9, unetCalls, decoding / 1e9, total() / 1e9);
    }
}
