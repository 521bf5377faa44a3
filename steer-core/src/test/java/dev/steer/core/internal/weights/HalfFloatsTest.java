package dev.steer.core.internal.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HalfFloatsTest {
    @Test
    void everyHalfValueRoundTripsExactly() {
        for (int h = 0; h < 65536; h++) {
            float f = HalfFloats.halfToFloat((short) h);
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals((short) h, HalfFloats.floatToHalf(f), "half bits " + Integer.toHexString(h));
        }
    }

    @Test
    void roundsToNearestEvenAndOverflowsToInfinity() {
        assertEquals(HalfFloats.floatToHalf(1f), HalfFloats.floatToHalf(1f + 0x1p-11f), "tie goes to the even 1.0");
        assertEquals((short) 0x3C01, HalfFloats.floatToHalf(1f + 0x1p-11f + 0x1p-20f), "above the tie rounds up");
        assertEquals((short) 0x7C00, HalfFloats.floatToHalf(70000f));
        assertEquals((short) 0x0001, HalfFloats.floatToHalf(0x1p-24f));
        assertEquals((short) 0x0000, HalfFloats.floatToHalf(0x1p-26f));
    }
}
