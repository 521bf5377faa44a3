package dev.steer.core.relation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CentroidRelationBaselineTest {
    private static final List<String> CLASSES = List.of("above", "below", "to the left of", "to the right of");
    private static final int SIDE = 16;
    private static final int MAPS = 3;

    /** One sample: every map of a word is a normalised bump at (x, y) on a faint uniform floor. */
    private static float[] sample(int sx, int sy, int ox, int oy) {
        float[] maps = new float[2 * MAPS * SIDE * SIDE];
        int[][] at = {{sx, sy}, {ox, oy}};
        for (int w = 0; w < 2; w++) {
            for (int m = 0; m < MAPS; m++) {
                int base = (w * MAPS + m) * SIDE * SIDE;
                double sum = 0;
                for (int y = 0; y < SIDE; y++) {
                    for (int x = 0; x < SIDE; x++) {
                        double d2 = Math.pow(x - at[w][0], 2) + Math.pow(y - at[w][1], 2);
                        maps[base + y * SIDE + x] = (float) (0.2 + Math.exp(-d2 / 4));
                        sum += maps[base + y * SIDE + x];
                    }
                }
                for (int i = 0; i < SIDE * SIDE; i++) {
                    maps[base + i] /= (float) sum;
                }
            }
        }
        return maps;
    }

    private static String predict(float[] maps) {
        float[] logits = new CentroidRelationBaseline(CLASSES, MAPS).logits(maps, MAPS, new long[] {5});
        int best = 0;
        for (int k = 1; k < logits.length; k++) {
            best = logits[k] > logits[best] ? k : best;
        }
        return CLASSES.get(best);
    }

    @Test
    void readsEachRelationFromWellSeparatedBumps() {
        assertEquals("to the left of", predict(sample(3, 8, 12, 9)));
        assertEquals("to the right of", predict(sample(12, 8, 3, 7)));
        assertEquals("above", predict(sample(8, 2, 7, 13)));
        assertEquals("below", predict(sample(8, 13, 9, 2)));
    }

    @Test
    void logitsAreTheCentroidDisplacementInEachDirection() {
        float[] logits = new CentroidRelationBaseline(CLASSES, MAPS).logits(sample(3, 8, 12, 8), MAPS, new long[] {5});
        assertEquals(-logits[0], logits[1], 1e-5, "above and below are opposite");
        assertEquals(-logits[2], logits[3], 1e-5, "left and right are opposite");
        // the floor holds ~80% of the mass and pulls both centroids to the centre: 9 pixels show as ~1.8
        assertTrue(logits[2] > 1.5 && logits[2] < 9, "displacement " + logits[2]);
        assertEquals(0, logits[0], 1e-3, "no vertical displacement");
    }

    @Test
    void refusesUnknownRelationsAndMisshapenInput() {
        assertThrows(IllegalArgumentException.class, () -> new CentroidRelationBaseline(List.of("behind"), MAPS));
        assertThrows(IllegalArgumentException.class,
                () -> new CentroidRelationBaseline(CLASSES, MAPS).logits(new float[10], MAPS, new long[] {5}));
    }
}
