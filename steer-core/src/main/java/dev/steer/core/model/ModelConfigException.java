package dev.steer.core.model;

import java.nio.file.Path;

/**
 * A model folder or config that this library cannot use: a missing file, invalid JSON, a missing
 * key, or an option it does not implement. The message names the file and the problem.
 */
public class ModelConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An error about {@code file}. */
    public ModelConfigException(Path file, String problem) {
        super(file + ": " + problem);
    }
}
