package io.sparkseek.model.kernel;

import com.aparapi.Kernel;

/**
 * Aparapi (OpenCL) kernel of the E4M3 tile quantizer of spec §8.2, bit-identical to
 * {@link io.sparkseek.model.fp8.QuantizedMatrix#quantize}; driven by {@link AparapiBackend} in three passes
 * selected by {@link #mode}:
 * <ol>
 *   <li>{@link #ROW_MAX}, one work-item per (row, tile column): {@code rowMax[r·scaleCols + tc]} = max |x| over the
 *       row's segment of the tile, or {@link #NON_FINITE} when the segment holds NaN or ±Inf;</li>
 *   <li>{@link #TILE_SCALE}, one work-item per tile: {@code tileMax} = max of its rows' segments (or
 *       {@link #NON_FINITE}), {@code scales} = {@code max(amax, 1e-4) / 448}, rounded up to a power of two when
 *       {@link #powerOfTwo} is 1;</li>
 *   <li>{@link #ENCODE}, one work-item per element: {@code codes[i]} = saturating RNE E4M3 of {@code x[i] / s}.</li>
 * </ol>
 * Exactness on any OpenCL device, without build options (Aparapi passes none to {@code clBuildProgram}, so
 * {@code -cl-fp32-correctly-rounded-divide-sqrt} is out of reach, and OpenCL allows 2.5 ulp for a float division):
 * both divisions run in double, which OpenCL rounds correctly, and the double quotient of two floats rounded to
 * float equals the correctly rounded float quotient (53 ≥ 2·24 + 2 bits, so the double rounding is innocuous).
 * Aparapi cannot reinterpret float bits in a kernel, so the encoder works on values: it finds the E4M3 binade by
 * comparing with powers of two and rounds with {@code rint} (round half to even) on an exact power-of-two
 * rescaling; the sign comes from the input (a zero's sign through {@code 1 / x}). NaN and ±Inf are found by
 * {@code x - x != 0} (NaN for both), not by {@code !(|x| <= max)}: Aparapi translates that to {@code |x| > max},
 * which is false for NaN. A device flushing subnormals gives the same codes, since every quotient below 2⁻¹⁰
 * encodes to a signed zero either way.
 *
 * <p>Array fields not used by a pass hold a one-element placeholder while it runs, so Aparapi (which copies every
 * array field of a kernel at each execution) moves only the arrays that pass needs. Not thread-safe: one instance
 * per concurrent caller ({@link AparapiBackend} pools them).
 */
final class Fp8QuantizeKernel extends Kernel {

    static final int ROW_MAX = 0;
    static final int TILE_SCALE = 1;
    static final int ENCODE = 2;
    /** {@code rowMax}/{@code tileMax} value of a segment or tile holding NaN or ±Inf (a real amax is ≥ 0). */
    static final float NON_FINITE = -1f;

    /** E4M3 largest finite value (spec §8.7). */
    private static final double E4M3_MAX = 448.0;
    /** {@link io.sparkseek.model.fp8.QuantizedMatrix#AMAX_FLOOR}. */
    private static final float AMAX_FLOOR = 1e-4f;
    /** Largest finite E4M3 code magnitude (S.1111.110 = 448). */
    private static final int E4M3_MAX_CODE = 126;
    /** Binades above the lowest one, [2⁻⁵, 2⁻⁴) … [256, 512). */
    private static final int BINADES_ABOVE_LOWEST = 14;
    /** 1 / quantum of the lowest binade (and of the subnormals), 2⁹. */
    private static final int LOWEST_QUANTUM_INV_LOG2 = 9;
    /** Clamp before rescaling; anything ≥ 464 saturates to 448 anyway. */
    private static final float CLAMP = 512f;
    /** Codes per binade (3 mantissa bits). */
    private static final int CODES_PER_BINADE = 8;
    private static final int SIGN = 0x80;

    int mode;
    /** Work-items of this pass; the range is rounded up to a multiple of the work-group size. */
    int count;
    int rows;
    int cols;
    int tileRows;
    int tileCols;
    int scaleCols;
    int powerOfTwo;

    float[] x = new float[1];
    float[] rowMax = new float[1];
    float[] tileMax = new float[1];
    float[] scales = new float[1];
    byte[] codes = new byte[1];
    /** {@code quantumInverse[j] = 2^(9 − j)}: 1 / quantum of the j-th binade (see {@link #e4m3Magnitude}). */
    final float[] quantumInverse = new float[BINADES_ABOVE_LOWEST + 1];

    Fp8QuantizeKernel() {
        for (int j = 0; j < quantumInverse.length; j++) {
            quantumInverse[j] = Math.scalb(1f, LOWEST_QUANTUM_INV_LOG2 - j);
        }
    }

    @Override
    public void run() {
        int gid = getGlobalId();
        if (gid < count) {
            if (mode == ROW_MAX) {
                rowMax(gid);
            } else if (mode == TILE_SCALE) {
                tileScale(gid);
            } else {
                encode(gid);
            }
        }
    }

    /** gid = r·scaleCols + tc: max |x| over row r, columns of tile column tc. */
    private void rowMax(int gid) {
        int r = gid / scaleCols;
        int tc = gid - r * scaleCols;
        int c0 = tc * tileCols;
        int c1 = min(cols, c0 + tileCols);
        int base = r * cols;
        float m = 0f;
        int bad = 0;
        for (int c = c0; c < c1; c++) {
            float v = x[base + c];
            if ((v - v) != 0f) {
                bad = 1; // NaN or ±Inf (v - v is NaN for both)
            }
            float a = abs(v);
            if (a > m) {
                m = a;
            }
        }
        if (bad == 1) {
            rowMax[gid] = NON_FINITE;
        } else {
            rowMax[gid] = m;
        }
    }

    /** gid = tr·scaleCols + tc: reduce the tile's row segments, then its scale. */
    private void tileScale(int gid) {
        int tr = gid / scaleCols;
        int tc = gid - tr * scaleCols;
        int r0 = tr * tileRows;
        int r1 = min(rows, r0 + tileRows);
        float m = 0f;
        int bad = 0;
        for (int r = r0; r < r1; r++) {
            float v = rowMax[r * scaleCols + tc];
            if (v < 0f) {
                bad = 1;
            }
            if (v > m) {
                m = v;
            }
        }
        if (m < AMAX_FLOOR) {
            m = AMAX_FLOOR;
        }
        float s = (float) ((double) m / E4M3_MAX);
        if (powerOfTwo == 1) {
            // Smallest power of two >= s (QuantizedMatrix.ceilPowerOfTwo); s is in [2.2e-7, 7.6e35], so the
            // doubling neither underflows nor overflows.
            float p = 1f;
            while (p < s) {
                p = p * 2f;
            }
            while (p * 0.5f >= s) {
                p = p * 0.5f;
            }
            s = p;
        }
        scales[gid] = s;
        if (bad == 1) {
            tileMax[gid] = NON_FINITE;
        } else {
            tileMax[gid] = m;
        }
    }

    /** gid = r·cols + c: the E4M3 code of x / scale, its sign from x (so -0 gives 0x80, as the reference). */
    private void encode(int gid) {
        int r = gid / cols;
        int c = gid - r * cols;
        float s = scales[(r / tileRows) * scaleCols + c / tileCols];
        float v = x[gid];
        float q = (float) ((double) v / (double) s);
        int code = e4m3Magnitude(abs(q));
        if (v < 0f || (v == 0f && 1.0 / (double) v < 0.0)) {
            code = code | SIGN;
        }
        codes[gid] = (byte) code;
    }

    /**
     * Saturating round-to-nearest-even E4M3 code of a finite {@code a ≥ 0}, the magnitude bits of
     * {@link io.sparkseek.model.fp8.Fp8Format#encode} for E4M3. With j the number of binade boundaries
     * 2⁻⁵, 2⁻⁴, …, 2⁸ at or below a, a lies in [2^(j−6), 2^(j−5)) whose quantum is 2^(j−9) (j = 0 also covers the
     * subnormals, quantum 2⁻⁹); {@code a · quantumInverse[j]} is exact (a power-of-two scaling) and its
     * even-rounded integer m gives the code 8·j + m (m in [8, 16] for j ≥ 1, m = 16 being the carry into the next
     * binade; m in [0, 16] for j = 0). {@code rint} rounds half to even in Java and in OpenCL. The compares are
     * written out: POCL ran this about 3 times faster than a loop that doubles the boundary.
     */
    int e4m3Magnitude(float a) {
        float v = a;
        if (v > CLAMP) {
            v = CLAMP;
        }
        int j = 0;
        if (v >= 0.03125f) {
            j++;
        }
        if (v >= 0.0625f) {
            j++;
        }
        if (v >= 0.125f) {
            j++;
        }
        if (v >= 0.25f) {
            j++;
        }
        if (v >= 0.5f) {
            j++;
        }
        if (v >= 1f) {
            j++;
        }
        if (v >= 2f) {
            j++;
        }
        if (v >= 4f) {
            j++;
        }
        if (v >= 8f) {
            j++;
        }
        if (v >= 16f) {
            j++;
        }
        if (v >= 32f) {
            j++;
        }
        if (v >= 64f) {
            j++;
        }
        if (v >= 128f) {
            j++;
        }
        if (v >= 256f) {
            j++;
        }
        int code = CODES_PER_BINADE * j + (int) rint(v * quantumInverse[j]);
        if (code > E4M3_MAX_CODE) {
            code = E4M3_MAX_CODE;
        }
        return code;
    }
}
