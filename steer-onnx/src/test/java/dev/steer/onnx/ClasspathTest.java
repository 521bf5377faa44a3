package dev.steer.onnx;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * The ONNX backend promises deployments without LibTorch, so it is built and tested with LibTorch
 * absent (where DJL's NDArray math on ONNX Runtime arrays is unavailable: the backend must do its
 * own math).
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
