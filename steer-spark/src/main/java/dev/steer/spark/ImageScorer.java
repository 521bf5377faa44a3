package dev.steer.spark;

import java.awt.image.BufferedImage;
import java.io.Serializable;
import java.util.Map;

/**
 * Scores a generated image for its prompt on the executor that generated it, into the result's
 * {@code scores} column: named numbers (an empty map when the scorer has nothing to say about the
 * prompt). Instances are serialised to the executors and may be called from several task threads at
 * once. {@link ShapeBenchScorer} scores ShapeWorld images with ShapeBench's detector.
 */
@FunctionalInterface
public interface ImageScorer extends Serializable {

    /** The scores of {@code image}, generated for {@code prompt}. */
    Map<String, Double> score(BufferedImage image, String prompt);
}
