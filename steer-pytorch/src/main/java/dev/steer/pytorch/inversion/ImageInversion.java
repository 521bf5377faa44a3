package dev.steer.pytorch.inversion;

import dev.steer.core.engine.StepObserver;
import dev.steer.core.tokenizer.TokenizedPrompt;
import java.awt.image.BufferedImage;

/**
 * Inverts real images to the noise a text-to-image model would denoise back into them, and
 * re-denoises that noise while an attention {@link StepObserver} records maps: the data side of
 * Learn-to-Steer's dual inversion, for any model family ({@link DdimInversion} for the UNet models,
 * {@link FlowMatchInversion} for FLUX's flow matching). Implementations are not thread-safe; results
 * are Java arrays.
 */
public interface ImageInversion {
    /** Number of inversion (and re-denoising) steps. */
    int steps();

    /** Fixed-point iterations per step (0: the plain inversion). */
    int fixedPointIterations();

    /** How images are fitted to the model size. */
    ImageFit imageFit();

    /** Image width in pixels. */
    int width();

    /** Image height in pixels. */
    int height();

    /** Maps per word (N) the model's probe gives: the heads of every layer whose attention is read. */
    int mapsPerWord();

    /** Tokenizes a prompt with the tokenizer whose tokens the attention probe binds words to. */
    TokenizedPrompt tokenize(String prompt);

    /** The model, for dataset manifests. */
    String modelDescription();

    /** Fits an image to the model size ({@link InversionImages#prepare}), as an RGB image. */
    default BufferedImage prepare(BufferedImage image) {
        return InversionImages.prepare(image, imageFit(), width(), height());
    }

    /** Prepares and encodes an image: the clean latent to invert. */
    EncodedImage encode(BufferedImage image);

    /** Inverts an encoded image with {@code prompt} (encode once, invert with several prompts). */
    Inverted invert(EncodedImage encoded, String prompt);

    /** Prepares, encodes and inverts {@code image} with {@code prompt}. */
    default Inverted invert(BufferedImage image, String prompt) {
        return invert(encode(image), prompt);
    }

    /**
     * Denoises from {@code inverted.noise()} with the same prompt and schedule, letting
     * {@code observer} (may be null) probe chosen steps' attention, then decodes and measures PSNR
     * against the inverted image and the latent error against the clean latent.
     */
    Reconstruction reconstruct(Inverted inverted, StepObserver observer);

    /** Re-denoises an inversion without an observer. */
    default Reconstruction reconstruct(Inverted inverted) {
        return reconstruct(inverted, null);
    }

    /** The PSNR (dB) of the reconstruction of {@code inverted} against its input image. */
    default double reconstructionPsnr(Inverted inverted) {
        return reconstruct(inverted).psnr();
    }
}
