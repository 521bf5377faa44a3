package dev.steer.core.shapeworld;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.HashSet;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ShapeWorldTest {
    @Test
    void detectorFindsEveryRenderedObjectWithItsExactBoxAndShape() {
        Random rng = new Random(7);
        int objects = 0;
        for (int i = 0; i < 500; i++) {
            Scene scene = ShapeWorld.DEFAULT.sample(rng);
            BufferedImage img = ShapeWorld.render(scene);
            for (SceneObject o : scene.objects()) {
                Optional<ShapeDetector.Detection> d = ShapeDetector.DEFAULT.detect(img, o.color());
                assertTrue(d.isPresent(), "missed " + o + " in scene " + i);
                assertEquals(o.kind(), d.get().kind(), "shape of " + o + " in scene " + i);
                double[] box = d.get().box();
                // filled shapes touch their box on every side, except a triangle's apex column may round
                assertEquals(o.x0(), box[0], 1, "x0 of " + o);
                assertEquals(o.y0(), box[1], 1, "y0 of " + o);
                assertEquals(o.x1(), box[2], 1, "x1 of " + o);
                assertEquals(o.y1(), box[3], 1, "y1 of " + o);
                objects++;
            }
            Set<ShapeColor> absent = new HashSet<>(Set.of(ShapeColor.values()));
            scene.objects().forEach(o -> absent.remove(o.color()));
            for (ShapeColor c : absent) {
                assertFalse(ShapeDetector.DEFAULT.detect(img, c).isPresent(), c + " found in scene " + i + " without it");
            }
        }
        assertTrue(objects > 900);
    }

    @Test
    void scenesHaveMostlyTwoNonOverlappingObjectsOfDistinctColours() {
        Random rng = new Random(3);
        int[] counts = new int[4];
        for (int i = 0; i < 2000; i++) {
            Scene s = ShapeWorld.DEFAULT.sample(rng);
            counts[s.objects().size()]++;
            Set<ShapeColor> colours = new HashSet<>();
            for (SceneObject a : s.objects()) {
                assertTrue(colours.add(a.color()));
                for (SceneObject b : s.objects()) {
                    assertTrue(a == b || !a.overlaps(b));
                }
                assertTrue(a.x0() >= 0 && a.y0() >= 0 && a.x1() <= 32 && a.y1() <= 32);
            }
        }
        assertEquals(0.8, counts[2] / 2000.0, 0.03);
        assertEquals(0.1, counts[1] / 2000.0, 0.02);
        assertEquals(0.1, counts[3] / 2000.0, 0.02);
    }

    @Test
    void sameSeedRendersTheSamePixels() {
        Scene a = ShapeWorld.DEFAULT.sample(new Random(11));
        Scene b = ShapeWorld.DEFAULT.sample(new Random(11));
        assertEquals(a, b);
        BufferedImage ia = ShapeWorld.render(a);
        BufferedImage ib = ShapeWorld.render(b);
        assertArrayEquals(ia.getRGB(0, 0, 32, 32, null, 0, 32), ib.getRGB(0, 0, 32, 32, null, 0, 32));
    }
}
