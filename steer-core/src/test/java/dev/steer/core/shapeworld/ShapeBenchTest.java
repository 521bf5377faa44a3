package dev.steer.core.shapeworld;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.relation.RelationParser;
import dev.steer.core.relation.SpatialRelation;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ShapeBenchTest {
    @Test
    void standardPromptsAreFixedBalancedAndParseToTheirTriplet() {
        List<ShapeBench.Prompt> a = ShapeBench.standardPrompts();
        assertEquals(a, ShapeBench.standardPrompts());
        assertEquals(100, a.size());
        for (SpatialRelation r : SpatialRelation.values()) {
            assertEquals(25, a.stream().filter(p -> p.relation() == r).count());
        }
        for (ShapeBench.Prompt p : a) {
            assertEquals(List.of(p.triplet()), RelationParser.standard().parse(p.prompt()), p.prompt());
        }
    }

    @Test
    void scoresRenderedScenesByTheirTruth() {
        Random rng = new Random(9);
        for (ShapeBench.Prompt p : ShapeBench.standardPrompts()) {
            // a scene that satisfies the prompt, built by placing the object then the subject on the asked side
            SceneObject object = new SceneObject(p.objectColor(), p.objectKind(), 11, 11, 21, 21);
            int[] d = switch (p.relation()) {
                case LEFT_OF -> new int[] {-11, 0};
                case RIGHT_OF -> new int[] {11, 0};
                case ABOVE -> new int[] {0, -11};
                case BELOW -> new int[] {0, 11};
            };
            SceneObject subject = new SceneObject(p.subjectColor(), p.subjectKind(), 11 + d[0], 11 + d[1], 21 + d[0], 21 + d[1]);
            Scene good = new Scene(32, List.of(subject, object), 230, 0);
            ShapeBench.Score s = ShapeBench.score(ShapeWorld.render(good), p, ShapeDetector.DEFAULT);
            assertTrue(s.objectsPresent() && s.positionCorrect(), p.prompt());
            SceneObject swapped = new SceneObject(p.subjectColor(), p.subjectKind(), 11 - d[0], 11 - d[1], 21 - d[0], 21 - d[1]);
            ShapeBench.Score bad = ShapeBench.score(ShapeWorld.render(new Scene(32, List.of(swapped, object), 230, 0)), p,
                    ShapeDetector.DEFAULT);
            assertTrue(bad.objectsPresent() && !bad.positionCorrect(), p.prompt());
            ShapeBench.Score missing = ShapeBench.score(ShapeWorld.render(new Scene(32, List.of(object), 230, rng.nextLong())), p,
                    ShapeDetector.DEFAULT);
            assertFalse(missing.objectsPresent() || missing.positionCorrect(), p.prompt());
        }
    }
}
