package dev.steer.core.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class AttentionProbeTest {
    @Test
    void wordOverlapIsOneForTheSameMapsZeroForDisjointOnesAndAveragedOverMapPairs() {
        int side = 2;
        // two map pairs per word (N = 2), 2x2 maps summing to 1: subject maps first, then the object's
        float[] same = {0.25f, 0.25f, 0.25f, 0.25f, 1, 0, 0, 0, /* object */ 0.25f, 0.25f, 0.25f, 0.25f, 1, 0, 0, 0};
        assertEquals(1f, AttentionProbe.wordOverlap(same, side), 1e-6f);
        float[] apart = {1, 0, 0, 0, 0.5f, 0.5f, 0, 0, /* object */ 0, 0, 0, 1, 0, 0, 0.5f, 0.5f};
        assertEquals(0f, AttentionProbe.wordOverlap(apart, side), 1e-6f);
        float[] half = {1, 0, 0, 0, 1, 0, 0, 0, /* object */ 0.5f, 0.5f, 0, 0, 0, 1, 0, 0};
        assertEquals(0.25f, AttentionProbe.wordOverlap(half, side), 1e-6f, "pair 1: 0.5, pair 2: 0");
        assertThrows(IllegalArgumentException.class, () -> AttentionProbe.wordOverlap(new float[6], side));
    }
}
