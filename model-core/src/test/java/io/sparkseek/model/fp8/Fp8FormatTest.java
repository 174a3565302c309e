package io.sparkseek.model.fp8;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Checks {@link Fp8Format} (spec §8.5, §8.7, §15.1) against expectations computed here, independently of the
 * implementation: values from the OCP / IEEE formula in double, and round-to-nearest-even by a brute-force search
 * for the nearest code.
 */
class Fp8FormatTest {

    private static final int RANDOM_SAMPLES_8BIT = 1_000_000;
    private static final int RANDOM_SAMPLES_E5M6 = 200_000;

    /** Value of a code from the format formula in double; NaN for NaN codes, ±Inf for Inf codes. */
    private static double formula(Fp8Format f, int code) {
        int e = f.exponentBits();
        int m = f.mantissaBits();
        int bias = f.bias();
        double sign = ((code >>> (e + m)) & 1) == 1 ? -1.0 : 1.0;
        int exp = (code >>> m) & ((1 << e) - 1);
        int man = code & ((1 << m) - 1);
        int expMax = (1 << e) - 1;
        if (f == Fp8Format.E4M3) {
            if (exp == expMax && man == (1 << m) - 1) {
                return Double.NaN;
            }
        } else if (exp == expMax) {
            return man == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        if (exp == 0) {
            return sign * Math.pow(2, 1 - bias) * (man / (double) (1 << m));
        }
        return sign * Math.pow(2, exp - bias) * (1 + man / (double) (1 << m));
    }

    /** Largest finite positive value from the formula. */
    private static double maxFinite(Fp8Format f) {
        double max = 0;
        for (int c = 0; c < f.signBit(); c++) {
            double v = formula(f, c);
            if (!Double.isNaN(v) && !Double.isInfinite(v)) {
                max = Math.max(max, v);
            }
        }
        return max;
    }

    private static final java.util.Map<Fp8Format, double[]> FINITE_VALUES =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static double[] finiteValues(Fp8Format f) {
        double[] v = new double[f.maxCode() + 1];
        for (int c = 0; c < v.length; c++) {
            v[c] = formula(f, c);
        }
        return v;
    }

    /** Brute-force RNE: nearest finite code, exact ties to the even code; overflow per OCP. */
    private static int bruteForce(Fp8Format f, float xf, boolean saturate) {
        double x = xf;
        int sign = (Float.floatToRawIntBits(xf) >>> 31) == 1 ? f.signBit() : 0;
        int nan = f.nanCode() | sign;
        if (Double.isNaN(x)) {
            return nan;
        }
        int overflow = saturate ? f.maxCode() : (f.hasInfinity() ? f.infCode() : f.nanCode());
        double a = Math.abs(x);
        if (Double.isInfinite(a)) {
            return overflow | sign;
        }
        // Candidate grid: all finite non-negative codes plus, for overflow, the next value of an unbounded exponent
        // range (max + one ulp of max's binade).
        int best = -1;
        double bestDist = Double.POSITIVE_INFINITY;
        double[] values = FINITE_VALUES.computeIfAbsent(f, Fp8FormatTest::finiteValues);
        for (int c = 0; c <= f.maxCode(); c++) {
            double d = Math.abs(values[c] - a);
            if (d < bestDist || (d == bestDist && (c & 1) == 0)) {
                best = c;
                bestDist = d;
            }
        }
        double max = formula(f, f.maxCode());
        double ulp = Math.pow(2, Math.getExponent(max) - f.mantissaBits());
        double beyond = max + ulp;
        double dBeyond = Math.abs(beyond - a);
        // The value beyond max has code maxCode + 1; its parity decides exact ties.
        if (dBeyond < bestDist || (dBeyond == bestDist && ((f.maxCode() + 1) & 1) == 0) || a > beyond) {
            return overflow | sign;
        }
        return best | sign;
    }

    @Test
    void allEightBitCodesDecodeToTheFormulaAndReencode() {
        for (Fp8Format f : new Fp8Format[] {Fp8Format.E4M3, Fp8Format.E5M2}) {
            assertThat(f.codeCount()).isEqualTo(256);
            for (int c = 0; c < 256; c++) {
                double want = formula(f, c);
                float got = f.decode(c);
                if (Double.isNaN(want)) {
                    assertThat(got).as("%s code 0x%02X", f, c).isNaN();
                    assertThat(f.encode(got, false) & 0x7F).isEqualTo(f.nanCode());
                    assertThat(f.encode(got, true) & 0x7F).isEqualTo(f.nanCode());
                    continue;
                }
                assertThat((double) got).as("%s code 0x%02X", f, c).isEqualTo(want);
                assertThat(Float.floatToRawIntBits(got) >>> 31).isEqualTo(c >>> 7); // -0 keeps its sign
                assertThat(f.encode(got, false)).as("%s re-encode 0x%02X", f, c).isEqualTo(c);
                if (!Double.isInfinite(want)) {
                    assertThat(f.encode(got, true)).isEqualTo(c);
                }
            }
        }
    }

    @Test
    void formatConstants() {
        assertThat(Fp8Format.E4M3.maxValue()).isEqualTo(448f);
        assertThat(Fp8Format.E5M2.maxValue()).isEqualTo(57344f);
        assertThat(Fp8Format.E5M6.maxValue()).isEqualTo(65024f);
        assertThat((double) Fp8Format.E4M3.maxValue()).isEqualTo(maxFinite(Fp8Format.E4M3));
        assertThat((double) Fp8Format.E5M2.maxValue()).isEqualTo(maxFinite(Fp8Format.E5M2));
        assertThat((double) Fp8Format.E5M6.maxValue()).isEqualTo(maxFinite(Fp8Format.E5M6));
        assertThat(Fp8Format.E4M3.nanCode()).isEqualTo(0x7F);
        assertThat(Fp8Format.E5M2.infCode()).isEqualTo(0x7C);
        assertThat(Fp8Format.E5M6.infCode()).isEqualTo(0x7C0);
        assertThat(Fp8Format.E5M6.codeCount()).isEqualTo(4096);
        assertThatThrownBy(Fp8Format.E4M3::infCode).isInstanceOf(UnsupportedOperationException.class);
        // Spec §8.7 table: min normal, max subnormal, min subnormal of E4M3 and E5M2
        assertThat(Fp8Format.E4M3.decode(0x08)).isEqualTo(0.015625f);
        assertThat(Fp8Format.E4M3.decode(0x07)).isEqualTo(0.013671875f);
        assertThat(Fp8Format.E4M3.decode(0x01)).isEqualTo(0.001953125f);
        assertThat(Fp8Format.E5M2.decode(0x04)).isEqualTo((float) Math.pow(2, -14));
        assertThat(Fp8Format.E5M2.decode(0x03)).isEqualTo((float) (0.75 * Math.pow(2, -14)));
        assertThat(Fp8Format.E5M2.decode(0x01)).isEqualTo((float) Math.pow(2, -16));
        assertThat(Fp8Format.E5M2.decode(0x7C)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(Fp8Format.E5M2.decode(0xFC)).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(Fp8Format.E5M6.decode(0x001)).isEqualTo((float) Math.pow(2, -20));
    }

    @Test
    void specSection15Cases() {
        Fp8Format f = Fp8Format.E4M3;
        assertThat(f.encode(448f, false)).isEqualTo(0x7E);
        assertThat(f.decode(0x7E)).isEqualTo(448f);
        assertThat(f.encode(1.0f, false)).isEqualTo(0x38);
        assertThat(f.decode(0x38)).isEqualTo(1.0f);
        assertThat(f.encode((float) Math.pow(2, -9), false)).isEqualTo(0x01);
        assertThat(f.decode(0x01)).isEqualTo((float) Math.pow(2, -9));
        // 464 is the midpoint of 448 (0x7E, even) and 480 (0x7F would be next): ties to even → 448 in both modes
        assertThat(f.encode(464f, false)).isEqualTo(0x7E);
        assertThat(f.encode(464f, true)).isEqualTo(0x7E);
        assertThat(f.encode(-464f, false)).isEqualTo(0xFE);
        assertThat(f.encode(Math.nextUp(464f), false)).isEqualTo(0x7F);
        assertThat(f.encode(470f, false)).isEqualTo(0x7F);
        assertThat(f.encode(470f, true)).isEqualTo(0x7E);
        assertThat(f.encode(-470f, false)).isEqualTo(0xFF);
        assertThat(f.encode(-470f, true)).isEqualTo(0xFE);
        assertThat(f.encode(480f, false)).isEqualTo(0x7F);
        assertThat(f.encode(1e30f, true)).isEqualTo(0x7E);
        assertThat(f.encode(Float.POSITIVE_INFINITY, true)).isEqualTo(0x7E);
        assertThat(f.encode(Float.NEGATIVE_INFINITY, true)).isEqualTo(0xFE);
        assertThat(f.encode(Float.POSITIVE_INFINITY, false)).isEqualTo(0x7F);
        assertThat(f.encode(Float.NaN, true)).isEqualTo(0x7F);
        assertThat(f.encode(-0.0f, true)).isEqualTo(0x80);
        assertThat(f.encode(0.0f, true)).isEqualTo(0x00);
        // Worked example of spec §8.7: 38.4 → 40 (0x62), −448 → 0xFE, 128 → 0x70
        assertThat(f.encode(38.4f, true)).isEqualTo(0x62);
        assertThat(f.decode(0x62)).isEqualTo(40f);
        assertThat(f.encode(128f, true)).isEqualTo(0x70);
        // E5M2 overflow: 61440 is the tie between 57344 (0x7B, odd) and 65536 → rounds up → Inf / saturates
        Fp8Format g = Fp8Format.E5M2;
        assertThat(g.encode(57344f, false)).isEqualTo(0x7B);
        assertThat(g.encode(61439f, false)).isEqualTo(0x7B);
        assertThat(g.encode(61440f, false)).isEqualTo(0x7C);
        assertThat(g.encode(61440f, true)).isEqualTo(0x7B);
        assertThat(g.encode(-1e9f, false)).isEqualTo(0xFC);
        assertThat(g.encode(Float.NEGATIVE_INFINITY, false)).isEqualTo(0xFC);
        assertThat(g.encode(Float.NEGATIVE_INFINITY, true)).isEqualTo(0xFB);
    }

    @Test
    void subnormalBoundaries() {
        Fp8Format f = Fp8Format.E4M3;
        float minSub = (float) Math.pow(2, -9);
        assertThat(f.encode(minSub / 2, true)).isEqualTo(0x00);                  // tie between 0 and 2^-9 → 0 (even)
        assertThat(f.encode(Math.nextUp(minSub / 2), true)).isEqualTo(0x01);
        assertThat(f.encode(-minSub / 2, true)).isEqualTo(0x80);
        assertThat(f.encode(1.5f * minSub, true)).isEqualTo(0x02);               // tie 1 / 2 → 2 (even)
        assertThat(f.encode(2.5f * minSub, true)).isEqualTo(0x02);               // tie 2 / 3 → 2 (even)
        assertThat(f.encode(7.5f * minSub, true)).isEqualTo(0x08);               // tie max subnormal / min normal
        assertThat(f.encode(Math.nextDown(7.5f * minSub), true)).isEqualTo(0x07);
        assertThat(f.encode(Float.MIN_VALUE, true)).isEqualTo(0x00);
        assertThat(f.encode(-Float.MIN_VALUE, true)).isEqualTo(0x80);
        assertThat(f.encode(Float.MIN_NORMAL, true)).isEqualTo(0x00);
        Fp8Format g = Fp8Format.E5M2;
        float minSub2 = (float) Math.pow(2, -16);
        assertThat(g.encode(minSub2 / 2, true)).isEqualTo(0x00);
        assertThat(g.encode(Math.nextUp(minSub2 / 2), true)).isEqualTo(0x01);
        assertThat(g.encode(3.5f * minSub2, true)).isEqualTo(0x04);              // tie 3 / min normal → 4
    }

    private static void checkAgainstBruteForce(Fp8Format f, float x) {
        for (boolean sat : new boolean[] {false, true}) {
            int want = bruteForce(f, x, sat);
            int got = f.encode(x, sat);
            if (want != got) {
                throw new AssertionError(String.format("%s encode(%s [0x%08X], saturate=%b) = 0x%X, brute force 0x%X",
                        f, x, Float.floatToRawIntBits(x), sat, got, want));
            }
        }
    }

    /** Random fp32 bit patterns with exponents around the format's range, plus specials. */
    private static void randomAgainstBruteForce(Fp8Format f, int samples, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int lowExp = 127 + 1 - f.bias() - f.mantissaBits() - 3;
        int highExp = 127 + (1 << f.exponentBits()) - 1 - f.bias() + 2;
        for (int i = 0; i < samples; i++) {
            int exp = rnd.nextInt(lowExp, highExp + 1);
            int bits = (rnd.nextInt(2) << 31) | (exp << 23) | rnd.nextInt(1 << 23);
            checkAgainstBruteForce(f, Float.intBitsToFloat(bits));
        }
        for (float s : new float[] {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, Float.MIN_NORMAL}) {
            checkAgainstBruteForce(f, s);
        }
        for (int i = 0; i < samples / 10; i++) { // full fp32 range
            checkAgainstBruteForce(f, Float.intBitsToFloat(rnd.nextInt()));
        }
    }

    /** Every midpoint between adjacent finite codes (and just beside it), including the one past max. */
    private static void midpointsAgainstBruteForce(Fp8Format f) {
        int max = f.maxCode();
        for (int c = 0; c <= max; c++) {
            double lo = formula(f, c);
            double hi = c < max ? formula(f, c + 1)
                    : lo + Math.pow(2, Math.getExponent(lo) - f.mantissaBits());
            float mid = (float) ((lo + hi) / 2);
            assertThat((double) mid).isEqualTo((lo + hi) / 2); // exact in fp32
            for (float x : new float[] {mid, Math.nextUp(mid), Math.nextDown(mid), -mid, -Math.nextUp(mid)}) {
                checkAgainstBruteForce(f, x);
            }
            if (c < max) {
                int even = (c & 1) == 0 ? c : c + 1;
                assertThat(f.encode(mid, true)).as("%s tie above code 0x%X", f, c).isEqualTo(even);
            }
        }
    }

    @Test
    void e4m3RandomAndMidpointsMatchBruteForceRne() {
        randomAgainstBruteForce(Fp8Format.E4M3, RANDOM_SAMPLES_8BIT, 1L);
        midpointsAgainstBruteForce(Fp8Format.E4M3);
    }

    @Test
    void e5m2RandomAndMidpointsMatchBruteForceRne() {
        randomAgainstBruteForce(Fp8Format.E5M2, RANDOM_SAMPLES_8BIT, 2L);
        midpointsAgainstBruteForce(Fp8Format.E5M2);
    }

    @Test
    void e5m6AllCodesRoundTripAndDecodeToTheFormula() {
        Fp8Format f = Fp8Format.E5M6;
        for (int c = 0; c < 4096; c++) {
            double want = formula(f, c);
            float got = f.decode(c);
            if (Double.isNaN(want)) {
                assertThat(got).isNaN();
                assertThat(f.encode(got, false) & (f.signBit() - 1)).isEqualTo(f.nanCode());
                continue;
            }
            assertThat((double) got).as("E5M6 code 0x%03X", c).isEqualTo(want);
            assertThat(f.encode(got, false)).as("E5M6 re-encode 0x%03X", c).isEqualTo(c);
        }
        short[] codes = f.encodeToShorts(new float[] {1.0f, -2.5f, 65024f, 1e9f});
        assertThat(f.decode(codes)).containsExactly(1.0f, -2.5f, 65024f, 65024f);
    }

    @Test
    void e5m6RandomAndMidpointsMatchBruteForceRne() {
        randomAgainstBruteForce(Fp8Format.E5M6, RANDOM_SAMPLES_E5M6, 3L);
        midpointsAgainstBruteForce(Fp8Format.E5M6);
    }

    @Test
    void arrayHelpers() {
        Fp8Format f = Fp8Format.E4M3;
        float[] x = {0.3f, -1.0f, 500f, Float.NaN};
        byte[] q = f.encode(x);
        assertThat(q).containsExactly((byte) f.encode(0.3f), (byte) 0xB8, (byte) 0x7E, (byte) 0x7F);
        float[] back = f.decode(q);
        assertThat(back[1]).isEqualTo(-1.0f);
        assertThat(back[2]).isEqualTo(448f);
        assertThat(back[3]).isNaN();
        byte[] dst = new byte[6];
        f.encode(x, 1, dst, 2, 2, false);
        assertThat(dst).containsExactly(0, 0, (byte) 0xB8, (byte) 0x7F, 0, 0);
        assertThatThrownBy(() -> f.encode(x, 3, dst, 0, 2, true)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> Fp8Format.E5M6.encode(x)).isInstanceOf(UnsupportedOperationException.class);
    }
}
