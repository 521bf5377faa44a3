package dev.steer.spark;

import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.shapeworld.Captions;
import dev.steer.core.shapeworld.ShapeBench;
import dev.steer.core.shapeworld.ShapeColor;
import dev.steer.core.shapeworld.ShapeDetector;
import dev.steer.core.shapeworld.ShapeKind;
import java.awt.image.BufferedImage;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ShapeBench's scoring ({@link ShapeBench#score} with {@link ShapeDetector#DEFAULT}) for ShapeWorld
 * prompts of ShapeBench's form ("a photo of a red circle left of a blue square", every colour, shape
 * and relation, not only the standard 100): {@code objects_present} and {@code position_correct},
 * each 1 or 0. Other prompts get no scores.
 */
public final class ShapeBenchScorer implements ImageScorer {
    private static final long serialVersionUID = 1L;

    /** The name the dataset job knows this scorer by. */
    public static final String NAME = "shapebench";

    private static volatile Map<String, ShapeBench.Prompt> prompts;

    @Override
    public Map<String, Double> score(BufferedImage image, String prompt) {
        ShapeBench.Prompt p = prompts().get(prompt);
        if (p == null) {
            return Map.of();
        }
        ShapeBench.Score s = ShapeBench.score(image, p, ShapeDetector.DEFAULT);
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("objects_present", s.objectsPresent() ? 1.0 : 0.0);
        out.put("position_correct", s.positionCorrect() ? 1.0 : 0.0);
        return out;
    }

    /** Every ShapeBench-form prompt, as {@link Captions#relationalPrompt} writes it. */
    private static Map<String, ShapeBench.Prompt> prompts() {
        Map<String, ShapeBench.Prompt> m = prompts;
        if (m == null) {
            m = new HashMap<>();
            for (ShapeColor sc : ShapeColor.values()) {
                for (ShapeKind sk : ShapeKind.values()) {
                    for (SpatialRelation r : SpatialRelation.values()) {
                        for (ShapeColor oc : ShapeColor.values()) {
                            for (ShapeKind ok : ShapeKind.values()) {
                                String text = Captions.relationalPrompt(sc, sk, r, oc, ok);
                                m.put(text, new ShapeBench.Prompt(text, sc, sk, r, oc, ok));
                            }
                        }
                    }
                }
            }
            prompts = Map.copyOf(m);
        }
        return m;
    }
}
