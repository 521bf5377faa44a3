package dev.steer.pytorch.steering;

import ai.djl.ndarray.NDArray;
import dev.steer.pytorch.attention.TorchAttentionProbe;
import java.util.List;

/**
 * One differentiable denoiser pass of a model family, as a steering objective needs it: the
 * conditional prompt alone on one latent, with an attention probe attached the family's way.
 */
public interface ProbedDenoiser {

    /** A probe for these words' token positions, with the family's map side and normalisation. */
    TorchAttentionProbe newProbe(List<int[]> wordTokenPositions);

    /**
     * Runs the denoiser on {@code latent} [1, C, h, w] (unscaled: the pass applies the step's input
     * scale itself) so that the probe's maps depend differentiably on it.
     */
    void run(NDArray latent, TorchAttentionProbe probe);
}
