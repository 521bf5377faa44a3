package dev.steer.core.weights;

import java.nio.file.Path;

/**
 * A weights file that cannot be used: truncated, corrupt, of an unexpected dtype or shape. The
 * message always names the file and what is wrong with it.
 */
public class WeightsFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Creates an exception about {@code file}; the message gets the file name prepended. */
    public WeightsFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    /** Creates an exception about {@code file} with a cause. */
    public WeightsFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
