package io.sparkseek.model.fp8;

/**
 * Small floating-point storage formats used by the FP8 recipe: OCP E4M3 and E5M2 (spec §8.7) and the E5M6 cache
 * format of spec §8.5. A code is the format's bit pattern in the low bits of an {@code int} (8 bits for E4M3 and
 * E5M2, 12 bits for E5M6: sign in bit 11, exponent in bits 10–6, mantissa in bits 5–0).
 *
 * <p>Encoding (spec §8.7, [OCP]) rounds to nearest, ties to even, with exact subnormals, done with integer
 * arithmetic on the fp32 bits (no table search). Overflow has two modes:
 * <ul>
 *   <li><b>saturating</b>: finite overflow and ±Inf become ±max finite (NVIDIA {@code __NV_SATFINITE});</li>
 *   <li><b>non-saturating</b>: a value whose RNE result lies beyond max finite becomes NaN for E4M3 (which has no
 *       infinities; e.g. 464 ties down to 448, anything in (464, ∞) becomes NaN, as PyTorch's cast does) and ±Inf for
 *       E5M2/E5M6; ±Inf inputs become NaN (E4M3) or ±Inf.</li>
 * </ul>
 * NaN always encodes to the format's canonical NaN with the input's sign. Decoding is a lookup in a table
 * precomputed from the format definition (256 entries for the 8-bit formats, 4096 for E5M6).
 *
 * <p>E5M6 conventions (the DeepSeek-V3 report leaves them open, spec §8.5): we chose IEEE-like — bias 15,
 * exponent field 31 is Inf (mantissa 0) or NaN (mantissa ≠ 0), exponent field 0 holds subnormals
 * 2^−14 · M/64. So max finite = 1.984375 · 2^15 = 65024 (like fp16), min normal 2^−14, min subnormal 2^−20.
 */
public enum Fp8Format {
    /** OCP E4M3 ({@code float8_e4m3fn}): bias 7, no Inf, NaN = S.1111.111, max 448. */
    E4M3(4, 3, 7, false),
    /** OCP E5M2 ({@code float8_e5m2}): bias 15, IEEE-like Inf/NaN, max 57344. */
    E5M2(5, 2, 15, true),
    /** E5M6 (12 bits) for the {@code o_proj} input cache (spec §8.5); IEEE-like, bias 15, max 65024. */
    E5M6(5, 6, 15, true);

    private static final int FP32_MANTISSA_BITS = 23;
    private static final int FP32_BIAS = 127;
    private static final int FP32_ABS_MASK = 0x7FFF_FFFF;
    private static final int FP32_INF_BITS = 0x7F80_0000;
    private static final int FP32_MANTISSA_MASK = 0x007F_FFFF;
    private static final int FP32_IMPLICIT_BIT = 0x0080_0000;
    /** Subnormal-path right shifts beyond this leave nothing that can round up to the smallest subnormal. */
    private static final int MAX_USEFUL_SHIFT = 30;

    private final int exponentBits;
    private final int mantissaBits;
    private final int bias;
    private final boolean hasInfinity;
    private final int bitWidth;
    private final int signBit;
    private final int maxCode;
    private final int nanCode;
    private final int infCode;
    /** fp32 bits of the smallest normal value 2^(1−bias). */
    private final int minNormalFloatBits;
    /** Subtracted from a shifted fp32 magnitude to re-bias its exponent into this format. */
    private final int rebias;
    private final float maxValue;
    private final float[] table;

    Fp8Format(int exponentBits, int mantissaBits, int bias, boolean hasInfinity) {
        this.exponentBits = exponentBits;
        this.mantissaBits = mantissaBits;
        this.bias = bias;
        this.hasInfinity = hasInfinity;
        this.bitWidth = 1 + exponentBits + mantissaBits;
        this.signBit = 1 << (exponentBits + mantissaBits);
        int allOnesExponent = ((1 << exponentBits) - 1) << mantissaBits;
        int mantissaMask = (1 << mantissaBits) - 1;
        if (hasInfinity) {
            this.infCode = allOnesExponent;
            this.nanCode = allOnesExponent | (1 << (mantissaBits - 1));
            this.maxCode = allOnesExponent - 1;
        } else {
            this.infCode = -1;
            this.nanCode = allOnesExponent | mantissaMask;
            this.maxCode = (allOnesExponent | mantissaMask) - 1;
        }
        this.minNormalFloatBits = (FP32_BIAS + 1 - bias) << FP32_MANTISSA_BITS;
        this.rebias = (FP32_BIAS - bias) << mantissaBits;
        this.table = new float[1 << bitWidth];
        for (int code = 0; code < table.length; code++) {
            table[code] = computeValue(code);
        }
        this.maxValue = table[maxCode];
    }

    /** Value of {@code code} from the format definition (used once, to fill the decode table). */
    private float computeValue(int code) {
        boolean negative = (code & signBit) != 0;
        int exp = (code >>> mantissaBits) & ((1 << exponentBits) - 1);
        int man = code & ((1 << mantissaBits) - 1);
        int magnitude = code & (signBit - 1);
        float v;
        if (magnitude == (nanCode & (signBit - 1)) || (hasInfinity && exp == (1 << exponentBits) - 1 && man != 0)) {
            return Float.NaN;
        } else if (hasInfinity && magnitude == infCode) {
            v = Float.POSITIVE_INFINITY;
        } else if (exp == 0) {
            v = Math.scalb((float) man, 1 - bias - mantissaBits);
        } else {
            v = Math.scalb((float) ((1 << mantissaBits) | man), exp - bias - mantissaBits);
        }
        return negative ? -v : v;
    }

    /** Total bits per code (8 or 12). */
    public int bitWidth() {
        return bitWidth;
    }

    public int exponentBits() {
        return exponentBits;
    }

    public int mantissaBits() {
        return mantissaBits;
    }

    public int bias() {
        return bias;
    }

    public boolean hasInfinity() {
        return hasInfinity;
    }

    /** Largest finite value (448, 57344 or 65024). */
    public float maxValue() {
        return maxValue;
    }

    /** Code of +max finite. */
    public int maxCode() {
        return maxCode;
    }

    /** Canonical NaN code (positive sign). */
    public int nanCode() {
        return nanCode;
    }

    /** Code of +Inf; throws for E4M3, which has none. */
    public int infCode() {
        if (!hasInfinity) {
            throw new UnsupportedOperationException(name() + " has no infinity code");
        }
        return infCode;
    }

    /** Sign-bit mask of a code. */
    public int signBit() {
        return signBit;
    }

    /** Number of distinct codes (256 or 4096). */
    public int codeCount() {
        return table.length;
    }

    /** fp32 → code, round to nearest, ties to even; see the class comment for overflow, Inf and NaN. */
    public int encode(float x, boolean saturate) {
        int bits = Float.floatToRawIntBits(x);
        int sign = (bits >>> 31) != 0 ? signBit : 0;
        int abs = bits & FP32_ABS_MASK;
        if (abs > FP32_INF_BITS) {
            return nanCode | sign;
        }
        int overflow = saturate ? maxCode : (hasInfinity ? infCode : nanCode);
        if (abs == FP32_INF_BITS) {
            return overflow | sign;
        }
        int magnitude;
        if (abs >= minNormalFloatBits) {
            // Normal in the target: RNE on the low (23 − M) mantissa bits; a carry moves into the exponent.
            int shift = FP32_MANTISSA_BITS - mantissaBits;
            int lsb = (abs >>> shift) & 1;
            magnitude = ((abs + (1 << (shift - 1)) - 1 + lsb) >>> shift) - rebias;
        } else {
            // Subnormal in the target: count units of 2^(1 − bias − M), RNE on the remainder.
            int biasedExp = abs >>> FP32_MANTISSA_BITS;
            int significand = biasedExp == 0 ? abs : (abs & FP32_MANTISSA_MASK) | FP32_IMPLICIT_BIT;
            int unbiasedExp = (biasedExp == 0 ? 1 : biasedExp) - FP32_BIAS;
            int shift = FP32_MANTISSA_BITS + (1 - bias) - mantissaBits - unbiasedExp;
            if (shift > MAX_USEFUL_SHIFT) {
                magnitude = 0;
            } else {
                int q = significand >>> shift;
                int rem = significand & ((1 << shift) - 1);
                int half = 1 << (shift - 1);
                if (rem > half || (rem == half && (q & 1) != 0)) {
                    q++;
                }
                magnitude = q; // q == 2^M is exactly the smallest normal code
            }
        }
        if (magnitude > maxCode) {
            return overflow | sign;
        }
        return magnitude | sign;
    }

    /** Saturating {@link #encode(float, boolean)}. */
    public int encode(float x) {
        return encode(x, true);
    }

    /** Code → fp32 value (exact); only the low {@link #bitWidth()} bits of {@code code} are used. */
    public float decode(int code) {
        return table[code & (table.length - 1)];
    }

    /** {@code decode(encode(x, saturate))}: the fp32 value after a round trip through this format. */
    public float round(float x, boolean saturate) {
        return table[encode(x, saturate)];
    }

    /** Encodes {@code len} values of {@code src} from {@code srcOff} into 8-bit codes in {@code dst}. */
    public void encode(float[] src, int srcOff, byte[] dst, int dstOff, int len, boolean saturate) {
        requireBitWidth(Byte.SIZE);
        checkRange(src.length, srcOff, dst.length, dstOff, len);
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = (byte) encode(src[srcOff + i], saturate);
        }
    }

    /** Element-wise saturating encode to a new byte array (8-bit formats only). */
    public byte[] encode(float[] src) {
        byte[] out = new byte[src.length];
        encode(src, 0, out, 0, src.length, true);
        return out;
    }

    /** Decodes {@code len} 8-bit codes from {@code src} into {@code dst}. */
    public void decode(byte[] src, int srcOff, float[] dst, int dstOff, int len) {
        requireBitWidth(Byte.SIZE);
        checkRange(src.length, srcOff, dst.length, dstOff, len);
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = table[src[srcOff + i] & 0xFF];
        }
    }

    /** Element-wise decode of 8-bit codes to a new float array. */
    public float[] decode(byte[] src) {
        float[] out = new float[src.length];
        decode(src, 0, out, 0, src.length);
        return out;
    }

    /** Encodes {@code len} values into 16-bit slots (any format; E5M6 codes use the low 12 bits). */
    public void encode(float[] src, int srcOff, short[] dst, int dstOff, int len, boolean saturate) {
        checkRange(src.length, srcOff, dst.length, dstOff, len);
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = (short) encode(src[srcOff + i], saturate);
        }
    }

    /** Element-wise saturating encode to a new short array. */
    public short[] encodeToShorts(float[] src) {
        short[] out = new short[src.length];
        encode(src, 0, out, 0, src.length, true);
        return out;
    }

    /** Decodes {@code len} codes held in 16-bit slots. */
    public void decode(short[] src, int srcOff, float[] dst, int dstOff, int len) {
        checkRange(src.length, srcOff, dst.length, dstOff, len);
        for (int i = 0; i < len; i++) {
            dst[dstOff + i] = decode(src[srcOff + i]);
        }
    }

    /** Element-wise decode of codes held in 16-bit slots to a new float array. */
    public float[] decode(short[] src) {
        float[] out = new float[src.length];
        decode(src, 0, out, 0, src.length);
        return out;
    }

    private void requireBitWidth(int width) {
        if (bitWidth != width) {
            throw new UnsupportedOperationException(
                    name() + " codes are " + bitWidth + " bits wide and do not fit in a byte; use the short[] overloads");
        }
    }

    private static void checkRange(int srcLength, int srcOff, int dstLength, int dstOff, int len) {
        if (len < 0 || srcOff < 0 || dstOff < 0 || srcOff > srcLength - len || dstOff > dstLength - len) {
            throw new IndexOutOfBoundsException("range [" + srcOff + ", +" + len + ") of source length " + srcLength
                    + " or [" + dstOff + ", +" + len + ") of destination length " + dstLength + " is out of bounds");
        }
    }
}
