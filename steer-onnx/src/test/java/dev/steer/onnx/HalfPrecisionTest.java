package dev.steer.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.steer.core.internal.weights.HalfFloats;
import org.junit.jupiter.api.Test;

class HalfPrecisionTest {
    @Test
    void everyHalfRoundTrips() {
        for (int h = 0; h < 0x10000; h++) {
            float f = HalfFloats.halfToFloat((short) h);
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals((short) h, HalfPrecision.floatToHalf(f), "half " + Integer.toHexString(h));
        }
    }

    @Test
    void roundsToNearestEvenIncludingSubnormalsAndOverflow() {
        for (int h = 0; h < 0x7bff; h++) {
            float lo = HalfFloats.halfToFloat((short) h);
            float hi = HalfFloats.halfToFloat((short) (h + 1));
            float mid = (lo + hi) / 2f; // exact in float32
            short even = (short) ((h & 1) == 0 ? h : h + 1);
            assertEquals(even, HalfPrecision.floatToHalf(mid), "midpoint after " + Integer.toHexString(h));
            assertEquals((short) h, HalfPrecision.floatToHalf(Math.nextDown(mid)));
            assertEquals((short) (h + 1), HalfPrecision.floatToHalf(Math.nextUp(mid)));
        }
        assertEquals((short) 0x7c00, HalfPrecision.floatToHalf(70000f));
        assertEquals((short) 0xfc00, HalfPrecision.floatToHalf(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0x8000, HalfPrecision.floatToHalf(-1e-10f));
        assertEquals(0x7e00, HalfPrecision.floatToHalf(Float.NaN) & 0x7e00);
    }
}
