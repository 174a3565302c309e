package io.sparkseek.model.kernel;

import io.sparkseek.model.fp8.Bf16;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Array conversions between fp32 and bf16 bits with the Vector API, bit for bit {@link Bf16#toFloat} and
 * {@link Bf16#fromFloat} (round to nearest even, NaN → quiet NaN with its sign): the BF16 AdamW moments of an FP8
 * run decode and re-encode every moment every step, which the scalar loops made 4–5× the cost of the FP32 update.
 *
 * <p>Integer lane arithmetic only, no masks: a NaN lane is picked with an all-ones lane from the sign of
 * {@code 0x7F800000 − |bits|} (negative exactly for NaN, no overflow). As in {@link JavaQuantizer}, each vector
 * loop is a small method with only arrays and scalars as parameters (INFRA.md, "Speed traps"), and the class
 * initialiser runs both once so that their first compilation sees the conversions already used.
 */
public final class Bf16Vectors {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int VL = F.length();
    /** VL short lanes; null when VL shorts are below the 64-bit shape (then the scalar loops run). */
    private static final VectorSpecies<Short> H = shortSpecies();

    private static final int ABS_MASK = 0x7FFF_FFFF;
    private static final int INF_BITS = 0x7F80_0000;
    /** Quiet-NaN bit of bf16 (the top mantissa bit), as in {@link Bf16}. */
    private static final int QUIET_BIT = 0x0040;

    static {
        float[] f = {1f, -0f, Float.NaN, Float.POSITIVE_INFINITY, 1.00390625f, 3e-39f, -7.5f, 0x1.fffffep127f};
        float[] x = new float[3 * Math.max(VL, 1) + 1];
        for (int i = 0; i < x.length; i++) {
            x[i] = f[i % f.length];
        }
        short[] h = new short[x.length];
        fromFloats(x, 0, h, 0, x.length);
        toFloats(h, 0, x, 0, x.length);
    }

    private Bf16Vectors() {
    }

    /** VL short lanes (the shape of half a float vector), or null when that is below the 64-bit shape. */
    static VectorSpecies<Short> shortSpecies() {
        try {
            return VectorSpecies.of(short.class, VectorShape.forBitSize(VL * Short.SIZE));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** {@code dst[d + j] = Bf16.toFloat(src[s + j])} for j in [0, n). */
    public static void toFloats(short[] src, int s, float[] dst, int d, int n) {
        int j = 0;
        if (H != null) {
            for (int end = n - n % VL; j < end; j += VL) {
                // Sign extension to int fills bits 16-31 only with copies that the shift drops.
                IntVector b = (IntVector) ShortVector.fromArray(H, src, s + j).convertShape(VectorOperators.S2I, I, 0);
                b.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, d + j);
            }
        }
        for (; j < n; j++) {
            dst[d + j] = Bf16.toFloat(src[s + j]);
        }
    }

    /** {@code dst[d + j] = Bf16.fromFloat(src[s + j])} for j in [0, n). */
    public static void fromFloats(float[] src, int s, short[] dst, int d, int n) {
        int j = 0;
        if (H != null) {
            for (int end = n - n % VL; j < end; j += VL) {
                IntVector bits = FloatVector.fromArray(F, src, s + j).reinterpretAsInts();
                IntVector hi = bits.lanewise(VectorOperators.LSHR, 16);
                // Round to nearest even: + 0x7FFF + the lsb of the upper half (wraps only for NaN bit patterns).
                IntVector rne = bits.add(hi.and(1)).add(0x7FFF).lanewise(VectorOperators.LSHR, 16);
                IntVector nan = bits.and(ABS_MASK).neg().add(INF_BITS).lanewise(VectorOperators.ASHR, 31);
                IntVector out = rne.lanewise(VectorOperators.XOR, rne.lanewise(VectorOperators.XOR,
                        hi.or(QUIET_BIT)).and(nan));
                // The narrowing keeps the low 16 bits, as the scalar (short) cast does.
                ((ShortVector) out.convertShape(VectorOperators.I2S, H, 0)).intoArray(dst, d + j);
            }
        }
        for (; j < n; j++) {
            dst[d + j] = Bf16.fromFloat(src[s + j]);
        }
    }
}
