package dev.steer.pytorch.training;

import java.nio.file.Path;

/**
 * A relation dataset folder that cannot be read: a missing or malformed {@code manifest.json}, a
 * missing shard, a tensor with the wrong name, dtype or shape, or an index out of range. The
 * message names the file and the problem.
 */
public class RelationDatasetException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An error about {@code file}. */
    public RelationDatasetException(Path file, String problem) {
        super(file + ": " + problem);
    }

    /** An error whose message already names the file (a wrapped reader error). */
    public RelationDatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
