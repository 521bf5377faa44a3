package dev.steer.onnx;

import ai.djl.engine.Engine;
import ai.onnxruntime.OrtEnvironment;

/**
 * The process-wide ONNX Runtime environment, obtained after DJL's OnnxRuntime engine has started
 * (the engine configures the native library and its environment first; using
 * {@link OrtEnvironment} directly before that can leave DJL's engine unusable).
 */
final class OrtRuntime {
    private OrtRuntime() {
    }

    private static volatile OrtEnvironment environment;

    /** The shared environment (never closed: it lives as long as the process, as ONNX Runtime expects). */
    static OrtEnvironment environment() {
        OrtEnvironment env = environment;
        if (env == null) {
            synchronized (OrtRuntime.class) {
                env = environment;
                if (env == null) {
                    Engine.getEngine("OnnxRuntime");
                    env = OrtEnvironment.getEnvironment();
                    environment = env;
                }
            }
        }
        return env;
    }
}
