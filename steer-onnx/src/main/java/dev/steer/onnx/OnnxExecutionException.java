package dev.steer.onnx;

import java.nio.file.Path;

/** ONNX Runtime failed while running a loaded graph; the message names the graph file and the inputs' shapes. */
public class OnnxExecutionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** A failure of the graph in {@code file}. */
    public OnnxExecutionException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }
}
