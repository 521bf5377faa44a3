package dev.steer.onnx;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * NDArray math on ONNX Runtime arrays with PyTorch on the classpath silently delegates to it, and
 * without it recurses: the backend must be built and tested with LibTorch absent.
 */
class ClasspathTest {
    @Test
    void libTorchIsNotOnTheClasspath() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("ai.djl.pytorch.engine.PtEngine"));
    }

    @Test
    void onnxRuntimeEngineIsOnTheClasspath() throws Exception {
        Class.forName("ai.djl.onnxruntime.engine.OrtEngine");
    }
}
