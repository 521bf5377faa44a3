package dev.steer.core.generation;

/**
 * A handle that stops a generation from another thread: pass it in the request
 * ({@link GenerationRequest.Builder#optCancellation}) and call {@link #cancel()}. The engine checks
 * it (and the generating thread's interrupt status) before every denoiser call, so a generation
 * stops within one step; it then frees that generation's native memory and throws
 * {@link GenerationCancelledException}. The pipeline stays usable. A handle stays cancelled: use a
 * new one for the next generation.
 */
public final class Cancellation {
    private volatile boolean cancelled;

    /** Asks the generations holding this handle to stop. */
    public void cancel() {
        cancelled = true;
    }

    /** Whether {@link #cancel()} was called. */
    public boolean isCancelled() {
        return cancelled;
    }
}
