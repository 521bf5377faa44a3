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

    @Test
    void multiRelationPromptsNameThreeDistinctObjectsAndParseToBothTriplets() {
        List<ShapeBench.MultiPrompt> a = ShapeBench.standardMultiRelationPrompts();
        assertEquals(a, ShapeBench.standardMultiRelationPrompts());
        assertEquals(50, a.size());
        for (ShapeBench.MultiPrompt p : a) {
            assertEquals(p.triplets(), RelationParser.standard().parse(p.prompt()), p.prompt());
            assertEquals(3, java.util.Set.of(p.first().subjectColor(), p.first().objectColor(), p.second().subjectColor()).size());
            assertEquals(p.first().objectColor(), p.second().objectColor(), "both relations share the middle object");
        }
        assertEquals("a photo of a " + a.get(0).first().subjectColor().adjective(), a.get(0).prompt().substring(0,
                ("a photo of a " + a.get(0).first().subjectColor().adjective()).length()));
    }

    @Test
    void multiRelationScoresCountEachRelationOnRenderedScenes() {
        for (ShapeBench.MultiPrompt p : ShapeBench.standardMultiRelationPrompts()) {
            SceneObject middle = new SceneObject(p.first().objectColor(), p.first().objectKind(), 12, 12, 20, 20);
            int[] d1 = direction(p.first().relation());
            int[] d2 = direction(p.second().relation());
            // the same side twice: spread the two along the other axis
            int spread = p.first().relation() == p.second().relation() ? 8 : 0;
            SceneObject first = at(p.first().subjectColor(), p.first().subjectKind(), 12 + 10 * d1[0] + spread * d1[1],
                    12 + 10 * d1[1] + spread * d1[0]);
            SceneObject second = at(p.second().subjectColor(), p.second().subjectKind(), 12 + 10 * d2[0] - spread * d2[1],
                    12 + 10 * d2[1] - spread * d2[0]);
            ShapeBench.MultiScore good = ShapeBench.score(ShapeWorld.render(new Scene(32, List.of(first, middle, second), 230, 0)), p,
                    ShapeDetector.DEFAULT);
            assertTrue(good.objectsPresent() && good.bothCorrect(), p.prompt() + " " + good);
            SceneObject firstSwapped = at(p.first().subjectColor(), p.first().subjectKind(), 12 - 10 * d1[0], 12 - 10 * d1[1]);
            if (!firstSwapped.overlaps(second)) {
                ShapeBench.MultiScore half = ShapeBench.score(ShapeWorld.render(new Scene(32, List.of(firstSwapped, middle, second), 230, 0)),
                        p, ShapeDetector.DEFAULT);
                assertTrue(half.objectsPresent() && !half.firstCorrect() && half.secondCorrect() && !half.bothCorrect(),
                        p.prompt() + " " + half);
            }
            ShapeBench.MultiScore missing = ShapeBench.score(ShapeWorld.render(new Scene(32, List.of(first, middle), 230, 0)), p,
                    ShapeDetector.DEFAULT);
            assertFalse(missing.objectsPresent() || missing.secondCorrect(), p.prompt());
        }
    }

    private static int[] direction(SpatialRelation r) {
        return switch (r) {
            case LEFT_OF -> new int[] {-1, 0};
            case RIGHT_OF -> new int[] {1, 0};
            case ABOVE -> new int[] {0, -1};
            case BELOW -> new int[] {0, 1};
        };
    }

    private static SceneObject at(ShapeColor color, ShapeKind kind, int x0, int y0) {
        return new SceneObject(color, kind, x0, y0, x0 + 8, y0 + 8);
    }
}
