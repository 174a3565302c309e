package io.sparkseek.model.fp8;

/**
 * bfloat16 (1 sign, 8 exponent, 7 mantissa bits; the upper half of an IEEE fp32) held as {@code short} bits.
 *
 * <p>Follows spec §8.7 (end): fp32 → bf16 keeps the top 16 bits after round-to-nearest, ties-to-even
 * (add {@code 0x7FFF + lsb} of the upper half, then shift); NaN is handled separately and stays a quiet NaN
 * with its sign. Overflow rounds to ±Inf exactly as the RNE add does (as PyTorch's {@code float → bfloat16}).
 * Subnormals are kept (no flush to zero). bf16 → fp32 is exact (append 16 zero bits).
 */
public final class Bf16 {

    /** Quiet-NaN bit of bf16 (the top mantissa bit). */
    private static final int QUIET_BIT = 0x0040;

    private Bf16() {
    }

    /** fp32 → bf16 bits, round to nearest, ties to even; NaN → quiet NaN with the same sign. */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) { // NaN: truncate payload, force the quiet bit
            return (short) ((bits >>> 16) | QUIET_BIT);
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }

    /** bf16 bits → fp32 (exact). */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** The fp32 value after a round trip through bf16 ({@code toFloat(fromFloat(f))}). */
    public static float round(float f) {
        return toFloat(fromFloat(f));
    }

    /** Element-wise {@link #fromFloat(float)}. */
    public static short[] fromFloats(float[] src) {
        short[] out = new short[src.length];
        for (int i = 0; i < src.length; i++) {
            out[i] = fromFloat(src[i]);
        }
        return out;
    }

    /** Element-wise {@link #toFloat(short)}. */
    public static float[] toFloats(short[] src) {
        float[] out = new float[src.length];
        for (int i = 0; i < src.length; i++) {
            out[i] = toFloat(src[i]);
        }
        return out;
    }

    /** A new array holding {@link #round(float)} of each element of {@code src}. */
    public static float[] round(float[] src) {
        float[] out = new float[src.length];
        for (int i = 0; i < src.length; i++) {
            out[i] = round(src[i]);
        }
        return out;
    }

    /** Rounds every element of {@code a} to the nearest bf16 value, in place; returns {@code a}. */
    public static float[] roundInPlace(float[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] = round(a[i]);
        }
        return a;
    }
}
