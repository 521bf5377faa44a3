package dev.steer.cli;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/** The trainers' {@code --threads}. */
final class LibTorchThreads {
    private LibTorchThreads() {
    }

    /** Sets LibTorch's intra-op thread count (loading the engine first). */
    static void set(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("--threads: at least 1, got " + threads);
        }
        Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(threads);
    }
}
