package dev.steer.core.engine;

import dev.steer.core.tokenizer.TokenizedPrompt;
import java.util.Map;

/**
 * One loaded model on one runtime, as the {@link GenerationEngine} needs it: what is backend and
 * model-family specific and nothing else. The engine owns the loop, the request handling, steering,
 * pictures and listeners; a backend supplies tokenization, the model's geometry and probe layout,
 * and per generation a {@link GenerationScope} that encodes, calls the denoiser, decodes and builds
 * the steering objective.
 *
 * @param <E> the backend's encoded-prompt type (a LibTorch array, an ONNX Runtime tensor copy)
 */
public interface DiffusionBackend<E> extends AutoCloseable {

    /** The model's description, scheduler, latent geometry, probed layers and relation classifier. */
    ModelInfo info();

    /** Tokenizes a prompt for the text encoder (once per prompt per generation). */
    TokenizedPrompt tokenize(String prompt);

    /** PNG text entries describing how this backend steers (e.g. a gradient estimator's settings); empty by default. */
    default Map<String, String> steeringMetadata() {
        return Map.of();
    }

    /** Opens the native-memory scope of one generation (or of one {@code generateAll} call). */
    GenerationScope<E> openScope();

    /** Releases the model's native memory (and the classifier's). */
    @Override
    void close();
}
