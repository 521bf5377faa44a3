package dev.steer.core.generation;

import java.util.Random;

/**
 * The seeded initial noise of a generation: standard normal values from {@link java.util.Random}
 * ({@code new Random(seed).nextGaussian()}, whose algorithm the Java specification fixes), so the
 * same seed gives the same latent on every JVM and on both backends. It does not reproduce
 * PyTorch's {@code torch.randn} streams; pass explicit latents to match a Python run.
 */
public final class InitialNoise {
    private InitialNoise() {
    }

    /** {@code count} standard normal values for {@code seed}. */
    public static float[] gaussian(long seed, int count) {
        Random rnd = new Random(seed);
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = (float) rnd.nextGaussian();
        }
        return out;
    }

    /**
     * The seed of initial-noise candidate {@code candidate} of a generation seeded {@code seed}, for
     * steering that chooses among several noises: candidate 0 is the seed itself, the others are
     * spread by the golden-ratio increment (SplittableRandom's), so neighbouring seeds' candidates
     * do not coincide.
     */
    public static long candidateSeed(long seed, int candidate) {
        if (candidate < 0) {
            throw new IllegalArgumentException("candidate must be non-negative, got " + candidate);
        }
        return seed + candidate * 0x9E3779B97F4A7C15L;
    }

    /** The initial latent of a schedule: {@link #gaussian} values times its init noise sigma. */
    public static float[] latents(long seed, int count, float initNoiseSigma) {
        float[] out = gaussian(seed, count);
        for (int i = 0; i < count; i++) {
            out[i] *= initNoiseSigma;
        }
        return out;
    }
}
