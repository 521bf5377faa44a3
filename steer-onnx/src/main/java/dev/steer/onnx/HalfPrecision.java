package dev.steer.onnx;

import dev.steer.core.weights.HalfFloats;
import java.nio.ShortBuffer;

/** float32 and float16 conversions for exports whose inputs and outputs are half precision. */
final class HalfPrecision {
    private HalfPrecision() {
    }

    /** Rounds a float to the nearest float16 (ties to even), as numpy's astype(float16) does. */
    static short floatToHalf(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) {
            return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign;
            }
            mant |= 0x800000;
            int shift = 14 - e;
            int half = mant >> shift;
            int rem = mant & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >> 13);
        int rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
            half++; // may carry into the exponent, which is the correct rounding (up to infinity)
        }
        return (short) (sign | half);
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
