package dev.steer.onnx;

import dev.steer.core.internal.weights.HalfFloats;
import java.nio.ShortBuffer;

/** float32 and float16 conversions for exports whose inputs and outputs are half precision. */
final class HalfPrecision {
    private HalfPrecision() {
    }

    /** Rounds a float to the nearest float16 (ties to even), as numpy's astype(float16) does. */
    static short floatToHalf(float value) {
        return HalfFloats.floatToHalf(value);
    }

    static short[] toHalf(float[] values) {
        short[] out = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = floatToHalf(values[i]);
        }
        return out;
    }

    static float[] toFloat(ShortBuffer halves) {
        float[] out = new float[halves.remaining()];
        for (int i = 0; i < out.length; i++) {
            out[i] = HalfFloats.halfToFloat(halves.get(halves.position() + i));
        }
        return out;
    }
}
