package dev.steer.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.function.Consumer;

/**
 * How ONNX Runtime sessions are created: intra-op threads (0: ONNX Runtime's default, one per
 * physical core) and an optional hook that may change anything else (execution providers, graph
 * optimization level, memory arena) before each session is created.
 */
record SessionSettings(int intraOpThreads, Consumer<OrtSession.SessionOptions> configurer) {

    static final SessionSettings DEFAULT = new SessionSettings(0, null);

    void apply(OrtSession.SessionOptions options) throws OrtException {
        if (intraOpThreads > 0) {
            options.setIntraOpNumThreads(intraOpThreads);
        }
        if (configurer != null) {
            configurer.accept(options);
        }
    }
}
