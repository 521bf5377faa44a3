package dev.steer.core.shapeworld;

import dev.steer.core.relation.PositionRule;
import dev.steer.core.relation.SpatialRelation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Captions of ShapeWorld scenes in the style of web alt-text: most name the objects without saying
 * where they are ("a red circle and a blue square"); a minority ({@link #relationalShare}) state
 * the true relation of a two-object scene in GenEval's phrasing ("a photo of a red circle left of a
 * blue square"). That is the regime of real models: they learn what, not where.
 *
 * @param relationalShare fraction of two-object scenes (with an unambiguous relation) captioned with it
 */
public record Captions(double relationalShare) {

    /** About a fifth of the captions state the relation. */
    public static final Captions DEFAULT = new Captions(0.2);

    /** GenEval's phrase for a relation ("left of", "right of", "above", "below"). */
    public static String genevalPhrase(SpatialRelation r) {
        return switch (r) {
            case LEFT_OF -> "left of";
            case RIGHT_OF -> "right of";
            case ABOVE -> "above";
            case BELOW -> "below";
        };
    }

    /** A caption for the scene. */
    public String caption(Scene scene, Random rng) {
        List<SceneObject> objects = new ArrayList<>(scene.objects());
        if (objects.size() == 2 && rng.nextDouble() < relationalShare) {
            Collections.shuffle(objects, rng);
            SceneObject a = objects.get(0);
            SceneObject b = objects.get(1);
            Optional<SpatialRelation> r = PositionRule.relation(box(a), box(b));
            if (r.isPresent()) {
                return "a photo of " + article(a) + " " + genevalPhrase(r.get()) + " " + article(b);
            }
        }
        Collections.shuffle(objects, rng);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < objects.size(); i++) {
            if (i > 0) {
                sb.append(i == objects.size() - 1 ? " and " : ", ");
            }
            sb.append(article(objects.get(i)));
        }
        return sb.toString();
    }

    /** The relational prompt ShapeBench asks for: "a photo of a red circle left of a blue square". */
    public static String relationalPrompt(ShapeColor sc, ShapeKind sk, SpatialRelation r, ShapeColor oc, ShapeKind ok) {
        return "a photo of a " + sc.adjective() + " " + sk.noun() + " " + genevalPhrase(r) + " a " + oc.adjective() + " " + ok.noun();
    }

    /** An object's box for the position rule. */
    public static PositionRule.Box box(SceneObject o) {
        return PositionRule.Box.ofCorners(o.x0(), o.y0(), o.x1(), o.y1());
    }

    private static String article(SceneObject o) {
        return "a " + o.phrase();
    }
}
