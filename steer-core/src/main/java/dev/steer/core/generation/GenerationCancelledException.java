package dev.steer.core.generation;

import java.util.concurrent.CancellationException;

/**
 * A generation stopped because its {@link Cancellation} was cancelled or its thread was
 * interrupted. Like {@link InterruptedException}, it consumes the interrupt: the thread's interrupt
 * status is clear when it is thrown, so the pipeline can be used again at once.
 */
public class GenerationCancelledException extends CancellationException {
    private static final long serialVersionUID = 1L;

    /** @param message where the generation stopped and why */
    public GenerationCancelledException(String message) {
        super(message);
    }
}
