package dev.steer.core.shapeworld;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.relation.PositionRule;
import dev.steer.core.relation.RelationParser;
import dev.steer.core.relation.RelationTriplet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CaptionsTest {
    @Test
    void aboutAFifthOfTwoObjectCaptionsStateTheTrueRelationInGenEvalForm() {
        Random rng = new Random(5);
        int relational = 0;
        int twoObject = 0;
        for (int i = 0; i < 3000; i++) {
            Scene s = ShapeWorld.DEFAULT.sample(rng, 2);
            String c = Captions.DEFAULT.caption(s, rng);
            twoObject++;
            List<RelationTriplet> parsed = RelationParser.standard().parse(c);
            if (parsed.isEmpty()) {
                assertTrue(c.matches("a \\w+ \\w+ and a \\w+ \\w+"), c);
                continue;
            }
            relational++;
            assertTrue(c.startsWith("a photo of a "), c);
            RelationTriplet t = parsed.get(0);
            // the subject is the object named first (two shapes of one kind differ by colour)
            SceneObject first = s.objects().get(0);
            SceneObject second = s.objects().get(1);
            boolean firstIsSubject = c.indexOf(first.phrase()) < c.indexOf(second.phrase());
            SceneObject subject = firstIsSubject ? first : second;
            SceneObject object = firstIsSubject ? second : first;
            assertEquals(subject.kind().noun(), t.subject(), c);
            assertTrue(PositionRule.satisfies(Captions.box(subject), Captions.box(object), t.relation()), c + " in " + s);
        }
        double share = relational / (double) twoObject;
        assertTrue(share > 0.12 && share < 0.2, "relational share " + share);
    }

    @Test
    void threeObjectCaptionsListEveryObject() {
        Scene s = ShapeWorld.DEFAULT.sample(new Random(2), 3);
        String c = Captions.DEFAULT.caption(s, new Random(1));
        for (SceneObject o : s.objects()) {
            assertTrue(c.contains(o.phrase()), c);
        }
        assertEquals(2, c.split(", | and ").length - 1);
    }
}
