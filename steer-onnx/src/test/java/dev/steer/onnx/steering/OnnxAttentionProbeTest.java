package dev.steer.onnx.steering;

import dev.steer.core.internal.attention.BilinearResize;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.steer.core.attention.CrossAttentionLayer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure-Java classifier input: torch's bilinear convention, token means, renormalisation and ordering. */
class OnnxAttentionProbeTest {

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(0.37 * i) + 2f;
        }
        return v;
    }

    @Test
    void halvingAveragesTwoByTwoBlocksAndQuarteringTheMiddleTwoByTwo() {
        // align_corners=False: src = 2 dst + 0.5 (weights 1/2, 1/2) and src = 4 dst + 1.5 (pixels 4 dst + 1, 4 dst + 2)
        float[] src = ramp(32 * 32);
        float[] half = BilinearResize.resize(src, 32, 32, 16, 16);
        float[] quarterSrc = ramp(64 * 64);
        float[] quarter = BilinearResize.resize(quarterSrc, 64, 64, 16, 16);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                float mean = (src[2 * y * 32 + 2 * x] + src[2 * y * 32 + 2 * x + 1] + src[(2 * y + 1) * 32 + 2 * x]
                        + src[(2 * y + 1) * 32 + 2 * x + 1]) / 4;
                assertEquals(mean, half[y * 16 + x], 1e-5);
                int r = 4 * y + 1;
                int c = 4 * x + 1;
                float q = (quarterSrc[r * 64 + c] + quarterSrc[r * 64 + c + 1] + quarterSrc[(r + 1) * 64 + c]
                        + quarterSrc[(r + 1) * 64 + c + 1]) / 4;
                assertEquals(q, quarter[y * 16 + x], 1e-5);
            }
        }
    }

    @Test
    void doublingClampsAtTheBordersAndInterpolatesQuarterWays() {
        float[] src = {1, 2, 3, 4}; // one row of 4 -> 8: src = (dst + 0.5) / 2 - 0.5, clamped at 0, last neighbour clamped
        float[] out = BilinearResize.resize(src, 1, 4, 1, 8);
        assertArrayEquals(new float[] {1f, 1.25f, 1.75f, 2.25f, 2.75f, 3.25f, 3.75f, 4f}, out, 1e-6f);
        assertArrayEquals(src, BilinearResize.resize(src, 1, 4, 1, 4), 0f);
    }

    @Test
    void wordsAverageTheirTokensAndMapsAreOrderedByResolutionThenExecution() {
        OnnxAttentionProbe probe = new OnnxAttentionProbe(List.of(new int[] {1}, new int[] {2, 3}));
        int tokens = 4;
        // layer 0 at 16x16 with 1 head, layer 1 at 8x8 with 2 heads, layer 2 at 16x16 with 1 head
        float[] a = new float[256 * tokens];
        float[] b = new float[2 * 64 * tokens];
        float[] c = new float[256 * tokens];
        for (int p = 0; p < 256; p++) {
            a[p * tokens + 1] = 1;
            a[p * tokens + 2] = p;
            a[p * tokens + 3] = 3 * p;
            c[p * tokens + 1] = p % 16;
        }
        java.util.Arrays.fill(b, 0.5f);
        probe.onCrossAttention(new CrossAttentionLayer(0, "a", 1, 1), 16, 16, 1, tokens, a, 0);
        probe.onCrossAttention(new CrossAttentionLayer(1, "b", 2, 2), 8, 8, 2, tokens, b, 0);
        probe.onCrossAttention(new CrossAttentionLayer(2, "c", 1, 1), 16, 16, 1, tokens, c, 0);
        assertEquals(4, probe.mapCount());
        float[] in = probe.classifierMaps(); // [2 words, 4 maps, 256]
        assertEquals(2 * 4 * 256, in.length);
        // word 0, maps: b head 0, b head 1 (uniform), a (uniform), c (x coordinate)
        assertEquals(1 / 256f, in[0], 1e-7);
        assertEquals(1 / 256f, in[256 + 17], 1e-7);
        assertEquals(1 / 256f, in[2 * 256 + 99], 1e-7);
        assertEquals(5f / (256 * 7.5f), in[3 * 256 + 5], 1e-7); // x = 5, sum of x over the grid = 16 * 120
        // word 1 (tokens 2 and 3) of layer a: mean (p + 3p) / 2 = 2p, normalised by sum 2 * 255 * 256 / 2
        int wordOneA = 4 * 256 + 2 * 256;
        assertEquals(2f * 100 / (255f * 256), in[wordOneA + 100], 1e-7);
        float s = 0;
        for (int i = 0; i < 256; i++) {
            s += in[wordOneA + i];
        }
        assertEquals(1f, s, 1e-5);
        assertThrows(IllegalArgumentException.class,
                () -> new OnnxAttentionProbe(List.of(new int[] {5})).onCrossAttention(new CrossAttentionLayer(0, "a", 1, 1), 16, 16, 1,
                        tokens, a, 0));
        assertThrows(IllegalStateException.class, () -> new OnnxAttentionProbe(List.of(new int[] {1})).classifierMaps());
    }
}
