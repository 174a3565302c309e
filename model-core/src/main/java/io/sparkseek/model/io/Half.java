package io.sparkseek.model.io;

/**
 * IEEE 754 binary16 (safetensors {@code F16}) ↔ fp32, bit-exact, round to nearest, ties to even, subnormals kept,
 * NaN kept a quiet NaN. Java 17 has no {@code Float.float16ToFloat}, hence this small helper.
 */
final class Half {

    private Half() {
    }

    /** binary16 bits → fp32 (exact). */
    static float toFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0) { // zero or subnormal: mant × 2^-24
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1F) { // Inf or NaN (payload kept)
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** fp32 → binary16 bits, round to nearest, ties to even; overflow → ±Inf; NaN → quiet NaN. */
    static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFF_FFFF;
        if (abs > 0x7F80_0000) {
            return (short) (sign | 0x7E00 | ((abs >>> 13) & 0x3FF));
        }
        if (abs >= 0x477F_F000) { // ≥ 65520 (the tie above 65504 rounds to even, i.e. to Inf); also Inf
            return (short) (sign | 0x7C00);
        }
        if (abs < 0x3880_0000) { // below 2^-14: subnormal result, in units of 2^-24 (exact scaling, RNE by rint)
            int m = (int) Math.rint(Float.intBitsToFloat(abs) * 0x1p24f);
            return (short) (sign | m); // m == 0x400 is the smallest normal, which is the right encoding
        }
        int exp = (abs >>> 23) - 127 + 15;
        int mant = abs & 0x7F_FFFF;
        int h = (exp << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
            h++;
        }
        return (short) (sign | h);
    }
}
