package dev.steer.pytorch.inversion;

/** How an image is brought to an inversion's model size. */
public enum ImageFit {
    /** Resize the whole image to the model size (aspect ratio not kept; nothing cut off). */
    STRETCH,
    /** Scale to cover the model size, keeping the aspect ratio, and cut out the centre. */
    CENTER_CROP
}
