package io.sparkseek.model.kernel;

import io.sparkseek.model.fp8.E5M6Tiles;
import io.sparkseek.model.fp8.Fp8Format;
import io.sparkseek.model.fp8.QuantizedMatrix;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link E5M6Tiles#quantizeInto} (the {@code o_proj} input cache, spec §8.5) with the Vector API, codes and scales
 * bit for bit the scalar ones, the same exception on NaN or Inf: the scalar encoder took about 5 ns per element,
 * 8× the E4M3 quantizer, for an input that the FP8 step also quantizes to E4M3.
 *
 * <p>Amax over the sign-cleared bits as integers, as in {@link JavaQuantizer} (non-finite shows as a max of at
 * least {@code 0x7F800000}); the scale by the reference's own expression. Encode of {@code v = x / s} (the same
 * correctly rounded division) with the magic-number rounding of {@link JavaQuantizer}, for 6 mantissa bits and
 * E5M6's bias 15: {@code a = min(|v|, 65024)} on the bits (saturation: in the reference everything above 65024
 * rounds to 65024 or overflows to it); {@code E = max(biased exponent of a, 113)} (113 = 2^-14, the smallest normal
 * binade, whose spacing 2^-20 is also the subnormal one); {@code C = 1.5 · 2^(E−127+17)}, whose ulp is that
 * spacing, so {@code a + C} rounds a to a multiple k of it, nearest and ties to even (C is an even multiple of its
 * ulp), {@code k = bits(a + C) − bits(C)} in [0, 128]; {@code code = 64·(E − 113) + k} (k = 64 + mantissa for a
 * normal result, 128 carries into the next binade; the mantissa itself for a subnormal one), then the sign as
 * 0x800. Every vector loop is a small method with arrays and scalars as parameters (INFRA.md, "Speed traps"), and
 * the class initialiser runs them once (see {@link JavaQuantizer}'s JIT hazards).
 */
public final class E5M6Vectors {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int VL = F.length();
    /** VL short lanes; null when VL shorts are below the 64-bit shape (then the scalar loops run). */
    private static final VectorSpecies<Short> H = Bf16Vectors.shortSpecies();

    private static final Fp8Format FORMAT = Fp8Format.E5M6;
    private static final int TILE = QuantizedMatrix.GROUP_SIZE;
    private static final int ABS_MASK = 0x7FFF_FFFF;
    private static final int EXP_MASK = 0x7F80_0000;
    private static final int MAX_BITS = Float.floatToRawIntBits(FORMAT.maxValue());
    /** Biased fp32 exponent of 2^-14, the smallest normal E5M6 binade. */
    private static final int MIN_EXP = 113;
    private static final int MIN_EXP_BITS = MIN_EXP << 23;
    /** Added to the exponent bits of a's (clamped) binade to form C = 1.5 · 2^(e + 17). */
    private static final int MAGIC_ADD = (17 << 23) | 0x40_0000;
    private static final int SIGN_BIT = 0x800;

    static {
        float[] x = new float[3 * (TILE + VL + 1)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 7 - 3) * (i % 5 == 0 ? 1e-6f : 1f);
        }
        int cols = x.length / 3;
        quantizeInto(x, 3, cols, new short[x.length], new float[3 * ((cols + TILE - 1) / TILE)]);
    }

    private E5M6Vectors() {
    }

    /** {@link E5M6Tiles#quantizeInto}, bit for bit, into the same buffers; same exceptions. */
    public static E5M6Tiles quantizeInto(float[] x, int rows, int cols, short[] codes, float[] scales) {
        int sCols = (cols + TILE - 1) / TILE;
        if (rows < 0 || cols < 0 || x.length < (long) rows * cols || codes.length < (long) rows * cols
                || scales.length < (long) rows * sCols) {
            return E5M6Tiles.quantizeInto(x, rows, cols, codes, scales);  // throws the reference's exception
        }
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int tc = 0; tc < sCols; tc++) {
                int c0 = tc * TILE;
                int w = Math.min(TILE, cols - c0);
                int m = JavaQuantizer.amaxSpan(x, base + c0, w);
                if (m >= EXP_MASK) {
                    return E5M6Tiles.quantizeInto(x, rows, cols, codes, scales);  // the reference's message
                }
                float s = QuantizedMatrix.ceilPowerOfTwo(Math.max(Float.intBitsToFloat(m), QuantizedMatrix.AMAX_FLOOR)
                        / FORMAT.maxValue());
                scales[r * sCols + tc] = s;
                encode(x, base + c0, w, s, codes);
            }
        }
        return E5M6Tiles.wrap(rows, cols, codes, scales);
    }

    /** {@code codes[off + j] = E5M6(x[off + j] / s)} (saturating) for j in [0, n); vector body, scalar tail. */
    static void encode(float[] x, int off, int n, float s, short[] codes) {
        int j = 0;
        if (H != null) {
            for (int nv = n - n % VL; j < nv; j += VL) {
                IntVector vb = FloatVector.fromArray(F, x, off + j).div(s).reinterpretAsInts();
                IntVector ab = vb.and(ABS_MASK).min(MAX_BITS);
                IntVector eb = ab.and(EXP_MASK).max(MIN_EXP_BITS);
                IntVector cb = eb.add(MAGIC_ADD);
                IntVector sum = ab.reinterpretAsFloats().add(cb.reinterpretAsFloats()).reinterpretAsInts();
                IntVector code = sum.sub(cb).add(eb.lanewise(VectorOperators.LSHR, 17)).sub(64 * MIN_EXP)
                        .or(vb.lanewise(VectorOperators.LSHR, 20).and(SIGN_BIT));
                ((ShortVector) code.convertShape(VectorOperators.I2S, H, 0)).intoArray(codes, off + j);
            }
        }
        for (; j < n; j++) {
            codes[off + j] = (short) FORMAT.encode(x[off + j] / s, true);
        }
    }
}
