package dev.steer.core.generation;

/**
 * Receives every denoising step of a generation as it completes (not only the steered ones): for
 * progress bars, previews, telemetry and conformance tests. Called on the generating thread; keep
 * it quick.
 */
@FunctionalInterface
public interface ProgressListener {
    /** Called after each denoising step. */
    void onStep(StepProgress progress);
}
