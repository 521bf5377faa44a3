package dev.steer.pytorch.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MirrorAugmentationTest {
    private static final List<String> RELATIONS = List.of("above", "below", "to the left of", "to the right of");
    private static final int SIDE = 4;

    /** n samples, each: the subject's map one hot at (row, col), the object's at (orow, ocol); 1 map per word. */
    private static RelationDataset.Batch batch(int n, int row, int col, int orow, int ocol, int label) {
        float[] maps = new float[n * 2 * SIDE * SIDE];
        long[] labels = new long[n];
        int[] samples = new int[n];
        for (int b = 0; b < n; b++) {
            maps[b * 2 * SIDE * SIDE + row * SIDE + col] = 1f;
            maps[b * 2 * SIDE * SIDE + SIDE * SIDE + orow * SIDE + ocol] = 1f;
            labels[b] = label;
            samples[b] = b;
        }
        return new RelationDataset.Batch(samples, maps, new long[] {n, 2, 1, SIDE, SIDE}, new long[n], labels, labels.clone(), new boolean[n]);
    }

    private static int[] hot(float[] maps, int offset) {
        for (int i = 0; i < SIDE * SIDE; i++) {
            if (maps[offset + i] == 1f) {
                return new int[] {i / SIDE, i % SIDE};
            }
        }
        throw new AssertionError("no hot cell");
    }

    @Test
    void everyMirroredSampleIsLabelledWithTheRelationItsMapsNowShow() {
        RelationDataset.Batch in = batch(200, 1, 0, 2, 3, RELATIONS.indexOf("to the left of"));
        RelationDataset.Batch out = new MirrorAugmentation(RELATIONS).apply(in, new Random(7));
        int flippedX = 0;
        int flippedY = 0;
        for (int b = 0; b < out.size(); b++) {
            int[] s = hot(out.maps(), b * 2 * SIDE * SIDE);
            int[] o = hot(out.maps(), b * 2 * SIDE * SIDE + SIDE * SIDE);
            String shown = s[1] < o[1] ? "to the left of" : "to the right of";
            assertEquals(shown, RELATIONS.get((int) out.labels()[b]), "sample " + b);
            flippedX += s[1] == 3 ? 1 : 0;
            flippedY += s[0] == 2 ? 1 : 0;
            assertEquals(s[0] == 2 ? 1 : 2, o[0], "both words' maps flip together");
        }
        assertTrue(flippedX > 70 && flippedX < 130, "about half flipped left-right: " + flippedX);
        assertTrue(flippedY > 70 && flippedY < 130, "about half flipped top-bottom: " + flippedY);
        assertArrayEquals(batch(200, 1, 0, 2, 3, 2).maps(), in.maps(), "the input batch is not changed");
    }

    @Test
    void aTopBottomFlipSwapsAboveAndBelow() {
        RelationDataset.Batch out = new MirrorAugmentation(RELATIONS).apply(batch(100, 0, 1, 3, 1, RELATIONS.indexOf("above")), new Random(3));
        for (int b = 0; b < out.size(); b++) {
            int[] s = hot(out.maps(), b * 2 * SIDE * SIDE);
            assertEquals(s[0] == 0 ? "above" : "below", RELATIONS.get((int) out.labels()[b]));
        }
    }

    @Test
    void anAxisWhosePairIsNotAmongTheRelationsIsNeverFlipped() {
        MirrorAugmentation onlyVertical = new MirrorAugmentation(List.of("above", "below", "to the left of"));
        assertFalse(onlyVertical.flipsX());
        assertTrue(onlyVertical.flipsY());
        RelationDataset.Batch out = onlyVertical.apply(batch(50, 1, 0, 2, 3, 2), new Random(1));
        for (int b = 0; b < out.size(); b++) {
            assertEquals(0, hot(out.maps(), b * 2 * SIDE * SIDE)[1], "never mirrored left-right");
            assertEquals(2, out.labels()[b]);
        }
    }
}
