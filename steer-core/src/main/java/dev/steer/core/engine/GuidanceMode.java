package dev.steer.core.engine;

/** How a model family applies the request's guidance scale. */
public enum GuidanceMode {
    /**
     * Classifier-free guidance (Stable Diffusion): when the scale is above 1 the denoiser runs on the
     * batch [unconditional, conditional] and the engine combines u + g (c - u).
     */
    CLASSIFIER_FREE,
    /**
     * Guidance distilled into the model (FLUX.1): one conditional pass per step; the scale is passed to
     * the model, which embeds it when it was trained to ([dev]) and has no use for it otherwise ([schnell]).
     */
    EMBEDDED
}
