package io.sparkseek.model.kernel;

import io.sparkseek.model.fp8.QuantizedMatrix;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fast E4M3 tile quantization (spec §8.2, §8.7) with the Vector API: codes and scales <b>bit-identical</b> to the
 * scalar reference {@link QuantizedMatrix#quantize} for every input, and the same exception (same message) on NaN
 * or Inf; plus a vectorised {@link #dequantize(QuantizedMatrix, float[])}.
 *
 * <p><b>Amax.</b> Over the sign-cleared fp32 bits as integers: for non-negative floats integer order is float order,
 * so the integer max is the float max (the reference's {@code Math.max} over finite values is order-independent),
 * and any NaN or Inf shows up as a max of at least {@code 0x7F800000}. The scale is the reference's own
 * {@link QuantizedMatrix#scaleFor}.
 *
 * <p><b>Encode</b> of {@code v = x / s} (the vector division is correctly rounded like the scalar one), all in
 * integer/float lane arithmetic without lane conversions:
 * <ol>
 *   <li>{@code a = min(|v|, 448)} on the bits (saturation: everything above 448, up to the largest float, encodes
 *       to 448 in the reference's saturating mode, 464 included since that tie goes to the even 448);</li>
 *   <li>{@code E = max(biased exponent of a, 121)} (121 = 2^-6, the smallest normal E4M3 binade; below it the
 *       subnormal spacing 2^-9 is that binade's spacing), and the magic number {@code C = 1.5 · 2^(E−127+20)},
 *       whose ulp is the E4M3 spacing {@code u = 2^(E−127−3)} of a's binade;</li>
 *   <li>{@code a + C} rounds {@code a} to a multiple {@code k·u} of the spacing, nearest and ties to even (C is an
 *       even multiple of its ulp), with {@code k = bits(a + C) − bits(C)} in [0, 16];</li>
 *   <li>{@code code = 8·(E − 121) + k}: for a normal result {@code k = 8 + mantissa} (and {@code k = 16} is the
 *       carry into the next binade), for a subnormal one ({@code E = 121}) {@code k} is the mantissa itself;
 *       then the sign bit of {@code v} as 0x80. Only the low byte is kept (the narrowing to bytes truncates), so
 *       C carries an extra 56 ulp (even: the rounding of a + C is unchanged) and the low byte of
 *       {@code bits(a + C) + (E_bits >>> 20)} is {@code k + 56 + 8·E ≡ k + 8·(E − 121)} (mod 256): two integer
 *       operations for the code, two for the sign.</li>
 * </ol>
 * Checked exhaustively against {@code Fp8Format.E4M3.encode(v, true)} over every finite float of both signs
 * ({@code JavaQuantizerTest} re-checks a dense sample and all ties on every run).
 *
 * <p><b>Tilings.</b> {@code tileCols == 1} (the 128×1 Wgrad tiles) vectorises across columns, a strip of columns
 * over the tile's rows at a time, with one scale per column; every other tiling (1×128 activations, 128×128
 * weight blocks, anything else) vectorises along the columns of each tile row segment, with a scalar tail for
 * ragged widths. Work is split over whole tile rows only, so results never depend on the thread count.
 *
 * <p><b>JIT hazards</b> (Java 17, found with a harness that runs the tilings in fresh JVMs): when the column
 * path was one large compiled unit (amax loops, encode loop and scalar tails inlined together, reached through the
 * same lambda as the row path), C2 hit its inlining budget ({@code NodeCountInliningCutoff} in the compilation log,
 * "missing constant" for the int-to-byte conversion's target class), and that conversion stayed a call into the
 * Vector API's Java fallback: 0.9 instead of 7 GB/s for the rest of the JVM's life, in 2 of 4 to 6 of 6 fresh JVMs
 * depending on the variant. Hence: the column and row paths run in separate lambdas, every vector loop is a small
 * method of its own with only arrays and scalars as parameters (vectors never cross a call), scalar tails are
 * separate methods, no vector value is merged from two branches ({@code c ? v1 : v2}), and the class initialiser
 * runs every path once on a tiny input ({@link #warmUp()}). With these, 0 of 33 such runs were slow (13 with two
 * copies of the class in one JVM, which had reproduced the problem most reliably).
 */
public final class JavaQuantizer {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final int VL = F.length();
    /** VL byte lanes, for narrowing codes straight into the output; null when VL bytes are below the 64-bit shape. */
    static final VectorSpecies<Byte> B = byteSpecies();

    private static final int ABS_MASK = 0x7FFF_FFFF;
    private static final int EXP_MASK = 0x7F80_0000;
    /** fp32 bits of 448, the E4M3 max (positive floats order like their bits). */
    private static final int SAT_BITS = Float.floatToRawIntBits(QuantizedMatrix.FORMAT.maxValue());
    /** Biased fp32 exponent of 2^-6, the smallest normal E4M3 binade. */
    private static final int MIN_EXP = 121;
    private static final int MIN_EXP_BITS = MIN_EXP << 23;
    /**
     * Added to the exponent bits of a's (clamped) binade to form C = 1.5 · 2^(e + 20) + 56 ulp: the 56 (even, so
     * ties still go to even) is 1024 − 8 · MIN_EXP, which makes the low byte of bits(a + C) + 8·E the code.
     */
    private static final int MAGIC_ADD = (20 << 23) | 0x40_0000 | (1024 - (MIN_EXP << 3));
    private static final int SIGN_BYTE = 0x80;
    /** The tile width of the training tilings (1×128, 128×128), given a fully unrolled amax. */
    private static final int GROUP = QuantizedMatrix.GROUP_SIZE;
    /** Elements per parallel chunk at least (below this a quantization runs on the calling thread). */
    static final int PAR_MIN_ELEMENTS = 1 << 15;
    /**
     * Columns per strip of the column-tile path: a strip of 128 rows (512 KiB) stays in L2 between the amax pass
     * and the encode pass. A multiple of 4·VL.
     */
    static final int STRIP = 1024 / (4 * VL) * (4 * VL);

    private static final float[] LUT = new float[256];

    static {
        for (int i = 0; i < LUT.length; i++) {
            LUT[i] = QuantizedMatrix.FORMAT.decode(i);
        }
    }

    /** Per-thread scratch, grown on demand. */
    private static final class Scratch {
        /** Per-column amax bits of a strip; codes on their way to bytes when there is no byte species. */
        int[] ints = new int[Math.max(STRIP, VL)];
        /** Scale per column of a strip, or per VL-vector of a row. */
        float[] scales = new float[STRIP];

        void fit(int n) {
            if (scales.length < n) {
                scales = new float[n];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    static {
        warmUp();
    }

    /** Thrown inside workers on a non-finite tile; {@link #quantize} then lets the reference report the first one. */
    private static final class NonFinite extends RuntimeException {
        NonFinite() {
            super(null, null, false, false);
        }
    }

    private JavaQuantizer() {
    }

    /**
     * Runs every vector path once on a tiny input while the class initialises (about 0.3 s, most of it loading
     * the Vector API's classes, which the first call would load anyway). Measured before the compile units were
     * split (see the class comment): without it the column path stayed at 0.7-0.9 instead of 7 GB/s in 3 of 4
     * fresh JVMs, with it in 0 of 6; the likely cause is a first compilation (an on-stack replacement inside the
     * very first call) made before the conversions it inlines had ever run.
     */
    private static void warmUp() {
        int rows = 3;
        int cols = GROUP + VL + 3;
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 7 - 3) * (i % 5 == 0 ? 1e-3f : 1f);
        }
        ComputePool serial = ComputePool.serial();
        float[] out = new float[x.length];
        for (boolean pow2 : new boolean[] {false, true}) {
            for (int[] tile : new int[][] {{1, GROUP}, {GROUP, 1}, {GROUP, GROUP}, {2, 3}}) {
                dequantize(quantize(serial, x, rows, cols, tile[0], tile[1], pow2), out);
            }
        }
        encodeSpan(x, 0, x.length, 1f, new byte[x.length]);
    }

    private static VectorSpecies<Byte> byteSpecies() {
        try {
            return VectorSpecies.of(byte.class, VectorShape.forBitSize(VL * Byte.SIZE));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * {@link QuantizedMatrix#quantize} of row-major {@code x[0, rows·cols)} (a longer buffer is fine) in
     * {@code tileRows × tileCols} tiles, bit for bit, parallel over tile rows on {@code pool}.
     */
    public static QuantizedMatrix quantize(ComputePool pool, float[] x, int rows, int cols, int tileRows,
            int tileCols, boolean powerOfTwoScales) {
        if (rows < 0 || cols < 0 || tileRows <= 0 || tileCols <= 0 || x.length < (long) rows * cols) {
            return QuantizedMatrix.quantize(x, rows, cols, tileRows, tileCols, powerOfTwoScales); // throws the same
        }
        int sRows = (rows + tileRows - 1) / tileRows;
        int sCols = (cols + tileCols - 1) / tileCols;
        byte[] codes = new byte[rows * cols];
        float[] scales = new float[sRows * sCols];
        encode(pool, x, rows, cols, tileRows, tileCols, powerOfTwoScales, codes, scales);
        return new QuantizedMatrix(rows, cols, tileRows, tileCols, codes, scales);
    }

    /**
     * As {@link #quantize(ComputePool, float[], int, int, int, int, boolean)}, bit for bit, but into the prefixes
     * {@code codes[0, rows·cols)} and {@code scales[0, ceil(rows / tileRows)·ceil(cols / tileCols))} of reused
     * buffers (every element of both prefixes is overwritten); returns a {@link QuantizedMatrix#view} over them.
     */
    public static QuantizedMatrix quantizeInto(ComputePool pool, float[] x, int rows, int cols, int tileRows,
            int tileCols, boolean powerOfTwoScales, byte[] codes, float[] scales) {
        if (rows < 0 || cols < 0 || tileRows <= 0 || tileCols <= 0 || x.length < (long) rows * cols) {
            return QuantizedMatrix.quantize(x, rows, cols, tileRows, tileCols, powerOfTwoScales); // throws the same
        }
        int sRows = (rows + tileRows - 1) / tileRows;
        int sCols = (cols + tileCols - 1) / tileCols;
        if (codes.length < (long) rows * cols || scales.length < (long) sRows * sCols) {
            throw new IllegalArgumentException("buffers of " + codes.length + " codes and " + scales.length
                    + " scales are too small for [" + rows + ", " + cols + "] in " + tileRows + "x" + tileCols
                    + " tiles");
        }
        encode(pool, x, rows, cols, tileRows, tileCols, powerOfTwoScales, codes, scales);
        return QuantizedMatrix.view(rows, cols, tileRows, tileCols, codes, scales);
    }

    /** Codes and scales of valid arguments into {@code codes} and {@code scales}, parallel over tile rows. */
    private static void encode(ComputePool pool, float[] x, int rows, int cols, int tileRows, int tileCols,
            boolean powerOfTwoScales, byte[] codes, float[] scales) {
        int sRows = (rows + tileRows - 1) / tileRows;
        int sCols = (cols + tileCols - 1) / tileCols;
        long perTileRow = Math.max(1L, (long) Math.min(tileRows, rows) * cols);
        int minChunk = (int) Math.max(1L, PAR_MIN_ELEMENTS / perTileRow);
        try {
            // Two lambdas, so that the JIT compiles the column and the row path as separate units (see columnTiles).
            if (tileCols == 1) {
                pool.parallelFor(sRows, minChunk, (lo, hi) -> {
                    Scratch sc = SCRATCH.get();
                    for (int tr = lo; tr < hi; tr++) {
                        int r0 = tr * tileRows;
                        columnTiles(sc, x, cols, r0, Math.min(rows, r0 + tileRows), powerOfTwoScales, codes, scales,
                                tr * sCols);
                    }
                });
            } else {
                pool.parallelFor(sRows, minChunk, (lo, hi) -> rowTiles(SCRATCH.get(), x, rows, cols, tileRows, tileCols,
                        powerOfTwoScales, codes, scales, lo, hi));
            }
        } catch (NonFinite e) {
            // The reference reports the first non-finite tile in its own order, with its message.
            QuantizedMatrix.quantize(x, rows, cols, tileRows, tileCols, powerOfTwoScales);
            throw new IllegalStateException("a tile had NaN or Inf but the reference quantizer accepted the input", e);
        }
    }

    /**
     * Tile rows [lo, hi) for {@code tileCols > 1}: per tile row, amax and scale of each tile, then the codes. When
     * tiles are whole vectors wide, a row goes in one call with one scale per VL-vector (per-tile calls of eight
     * vectors spent as long in loop set-up as in the loop); otherwise tile segment by tile segment.
     */
    private static void rowTiles(Scratch sc, float[] x, int rows, int cols, int tileRows, int tileCols, boolean pow2,
            byte[] codes, float[] scales, int lo, int hi) {
        int sCols = (cols + tileCols - 1) / tileCols;
        int colsV = cols - cols % VL;
        int nVec = colsV / VL;
        sc.fit(nVec);
        for (int tr = lo; tr < hi; tr++) {
            int r0 = tr * tileRows;
            int r1 = Math.min(rows, r0 + tileRows);
            int sOff = tr * sCols;
            tileScales(x, cols, r0, r1, tileCols, pow2, scales, sOff);
            if (tileCols % VL != 0) {
                encodeTileSegments(x, cols, r0, r1, tileCols, codes, scales, sOff);
                continue;
            }
            vectorScales(scales, sOff, tileCols / VL, nVec, sc.scales);
            for (int r = r0; r < r1; r++) {
                encodeRow(sc, x, r * cols, nVec, sc.scales, codes);
            }
            if (colsV < cols) {
                encodeTailColumns(x, cols, r0, r1, colsV, tileCols, codes, scales, sOff);
            }
        }
    }

    /** Codes of rows [r0, r1) tile segment by tile segment (tiles not a whole number of vectors wide). */
    private static void encodeTileSegments(float[] x, int cols, int r0, int r1, int tileCols, byte[] codes,
            float[] scales, int sOff) {
        for (int r = r0; r < r1; r++) {
            for (int c0 = 0, tc = 0; c0 < cols; c0 += tileCols, tc++) {
                encodeSpan(x, r * cols + c0, Math.min(tileCols, cols - c0), scales[sOff + tc], codes);
            }
        }
    }

    /** Scalar codes of columns [c1, cols) of rows [r0, r1), past the last whole vector of a row. */
    private static void encodeTailColumns(float[] x, int cols, int r0, int r1, int c1, int tileCols, byte[] codes,
            float[] scales, int sOff) {
        for (int c = c1; c < cols; c++) {
            float s = scales[sOff + c / tileCols];
            for (int r = r0, i = r0 * cols + c; r < r1; r++, i += cols) {
                codes[i] = (byte) QuantizedMatrix.FORMAT.encode(x[i] / s, true);
            }
        }
    }

    /** The scale of each of the {@code nVec} VL-vectors of a row ({@code perTile} per tile) into {@code vs}. */
    private static void vectorScales(float[] scales, int sOff, int perTile, int nVec, float[] vs) {
        for (int tc = 0, k = 0; k < nVec; tc++) {
            float s = scales[sOff + tc];
            for (int k1 = Math.min(nVec, k + perTile); k < k1; k++) {
                vs[k] = s;
            }
        }
    }

    /** Amax and scale of each tile spanning rows [r0, r1), into {@code scales[sOff, +sCols)}. */
    private static void tileScales(float[] x, int cols, int r0, int r1, int tileCols, boolean pow2, float[] scales,
            int sOff) {
        for (int c0 = 0, tc = 0; c0 < cols; c0 += tileCols, tc++) {
            int w = Math.min(tileCols, cols - c0);
            int m = 0;
            if (w == GROUP) {
                for (int r = r0; r < r1; r++) {
                    m = Math.max(m, amaxGroup(x, r * cols + c0));
                }
            } else {
                for (int r = r0; r < r1; r++) {
                    m = Math.max(m, amaxSpan(x, r * cols + c0, w));
                }
            }
            if (m >= EXP_MASK) {
                throw new NonFinite();
            }
            scales[sOff + tc] = QuantizedMatrix.scaleFor(Float.intBitsToFloat(m), pow2);
        }
    }

    /**
     * {@link #amaxSpan} of one 128-wide group: a constant trip count, so the JIT unrolls it completely (the general
     * loop's set-up and exit cost as much as its eight vectors).
     */
    private static int amaxGroup(float[] x, int off) {
        int nv = GROUP - GROUP % VL;
        IntVector mv = IntVector.zero(I);
        for (int j = 0; j < nv; j += VL) {
            mv = mv.max(FloatVector.fromArray(F, x, off + j).reinterpretAsInts().and(ABS_MASK));
        }
        int m = mv.reduceLanes(VectorOperators.MAX);
        for (int j = nv; j < GROUP; j++) {
            m = Math.max(m, Float.floatToRawIntBits(x[off + j]) & ABS_MASK);
        }
        return m;
    }

    /** max over j in [0, n) of the sign-cleared bits of {@code x[off + j]}. */
    static int amaxSpan(float[] x, int off, int n) {
        int nv = n - n % VL;
        IntVector mv = IntVector.zero(I);
        for (int j = 0; j < nv; j += VL) {
            mv = mv.max(FloatVector.fromArray(F, x, off + j).reinterpretAsInts().and(ABS_MASK));
        }
        int m = mv.reduceLanes(VectorOperators.MAX);
        for (int j = nv; j < n; j++) {
            m = Math.max(m, Float.floatToRawIntBits(x[off + j]) & ABS_MASK);
        }
        return m;
    }

    /**
     * {@code codes[off + j] = E4M3(x[off + j] / s_k)} for the {@code nVec} vectors k of a row, vector k with the
     * scale {@code vs[k]}.
     */
    private static void encodeRow(Scratch sc, float[] x, int off, int nVec, float[] vs, byte[] codes) {
        int[] tmp = sc.ints;
        for (int k = 0, j = off; k < nVec; k++, j += VL) {
            FloatVector xv = FloatVector.fromArray(F, x, j);
            IntVector vb = xv.div(vs[k]).reinterpretAsInts();
            IntVector ab = vb.and(ABS_MASK).min(SAT_BITS);
            IntVector eb = ab.and(EXP_MASK).max(MIN_EXP_BITS);
            IntVector sum = ab.reinterpretAsFloats().add(eb.add(MAGIC_ADD).reinterpretAsFloats()).reinterpretAsInts();
            IntVector code = sum.add(eb.lanewise(VectorOperators.LSHR, 20))
                    .or(vb.lanewise(VectorOperators.LSHR, 24).and(SIGN_BYTE));
            if (B != null) {
                ((ByteVector) code.convertShape(VectorOperators.I2B, B, 0)).intoArray(codes, j);
            } else {
                code.intoArray(tmp, 0);
                for (int t = 0; t < VL; t++) {
                    codes[j + t] = (byte) tmp[t];
                }
            }
        }
    }

    /**
     * {@code codes[off + j] = E4M3(x[off + j] / s)} for j in [0, n), vector body and scalar tail (also the test
     * hook for the vector encode).
     */
    static void encodeSpan(float[] x, int off, int n, float s, byte[] codes) {
        int nv = n - n % VL;
        FloatVector sv = FloatVector.broadcast(F, s);
        int[] tmp = B == null ? SCRATCH.get().ints : null;
        for (int j = 0; j < nv; j += VL) {
            FloatVector xv = FloatVector.fromArray(F, x, off + j);
            IntVector vb = xv.div(sv).reinterpretAsInts();
            IntVector ab = vb.and(ABS_MASK).min(SAT_BITS);
            IntVector eb = ab.and(EXP_MASK).max(MIN_EXP_BITS);
            IntVector sum = ab.reinterpretAsFloats().add(eb.add(MAGIC_ADD).reinterpretAsFloats()).reinterpretAsInts();
            IntVector code = sum.add(eb.lanewise(VectorOperators.LSHR, 20))
                    .or(vb.lanewise(VectorOperators.LSHR, 24).and(SIGN_BYTE));
            if (B != null) {
                ((ByteVector) code.convertShape(VectorOperators.I2B, B, 0)).intoArray(codes, off + j);
            } else {
                code.intoArray(tmp, 0);
                for (int t = 0; t < VL; t++) {
                    codes[off + j + t] = (byte) tmp[t];
                }
            }
        }
        for (int j = nv; j < n; j++) {
            codes[off + j] = (byte) QuantizedMatrix.FORMAT.encode(x[off + j] / s, true);
        }
    }

    /**
     * All 1-column tiles of rows [r0, r1): per column amax over the rows, scale, codes; vectorised across columns
     * in strips of {@link #STRIP} columns, scalar for the last {@code cols % VL} columns. Kept small, with the
     * vector loops in their own methods: compiled with them inlined, this method once grew past C2's inlining
     * budget and one narrowing conversion stayed a call into the Java fallback.
     */
    private static void columnTiles(Scratch sc, float[] x, int cols, int r0, int r1, boolean pow2, byte[] codes,
            float[] scales, int scaleOff) {
        int[] amax = sc.ints;
        float[] sb = sc.scales;
        int colsV = cols - cols % VL;
        for (int c0 = 0; c0 < colsV; c0 += STRIP) {
            int w = Math.min(STRIP, colsV - c0);
            columnAmax(x, cols, r0, r1, c0, w, amax);
            for (int j = 0; j < w; j++) {
                if (amax[j] >= EXP_MASK) {
                    throw new NonFinite();
                }
                float s = QuantizedMatrix.scaleFor(Float.intBitsToFloat(amax[j]), pow2);
                scales[scaleOff + c0 + j] = s;
                sb[j] = s;
            }
            for (int r = r0; r < r1; r++) {
                encodeColumns(sc, x, r * cols + c0, w, sb, codes);
            }
        }
        if (colsV < cols) {
            columnTail(x, cols, r0, r1, colsV, pow2, codes, scales, scaleOff);
        }
    }

    /** {@code amax[j]} = max over rows [r0, r1) of the sign-cleared bits of column {@code c0 + j}, j in [0, w). */
    private static void columnAmax(float[] x, int cols, int r0, int r1, int c0, int w, int[] amax) {
        int j = 0;
        for (; j + 4 * VL <= w; j += 4 * VL) {
            IntVector m0 = IntVector.zero(I);
            IntVector m1 = m0;
            IntVector m2 = m0;
            IntVector m3 = m0;
            for (int r = r0, i = r0 * cols + c0 + j; r < r1; r++, i += cols) {
                m0 = m0.max(FloatVector.fromArray(F, x, i).reinterpretAsInts().and(ABS_MASK));
                m1 = m1.max(FloatVector.fromArray(F, x, i + VL).reinterpretAsInts().and(ABS_MASK));
                m2 = m2.max(FloatVector.fromArray(F, x, i + 2 * VL).reinterpretAsInts().and(ABS_MASK));
                m3 = m3.max(FloatVector.fromArray(F, x, i + 3 * VL).reinterpretAsInts().and(ABS_MASK));
            }
            m0.intoArray(amax, j);
            m1.intoArray(amax, j + VL);
            m2.intoArray(amax, j + 2 * VL);
            m3.intoArray(amax, j + 3 * VL);
        }
        for (; j < w; j += VL) {
            IntVector mv = IntVector.zero(I);
            for (int r = r0, i = r0 * cols + c0 + j; r < r1; r++, i += cols) {
                mv = mv.max(FloatVector.fromArray(F, x, i).reinterpretAsInts().and(ABS_MASK));
            }
            mv.intoArray(amax, j);
        }
    }

    /** Scalar column tiles for columns [c1, cols) of rows [r0, r1). */
    private static void columnTail(float[] x, int cols, int r0, int r1, int c1, boolean pow2, byte[] codes,
            float[] scales, int scaleOff) {
        for (int c = c1; c < cols; c++) {
            int m = 0;
            for (int r = r0, i = r0 * cols + c; r < r1; r++, i += cols) {
                m = Math.max(m, Float.floatToRawIntBits(x[i]) & ABS_MASK);
            }
            if (m >= EXP_MASK) {
                throw new NonFinite();
            }
            float s = QuantizedMatrix.scaleFor(Float.intBitsToFloat(m), pow2);
            scales[scaleOff + c] = s;
            for (int r = r0, i = r0 * cols + c; r < r1; r++, i += cols) {
                codes[i] = (byte) QuantizedMatrix.FORMAT.encode(x[i] / s, true);
            }
        }
    }

    /** {@code codes[off + j] = E4M3(x[off + j] / s[j])} for j in [0, n), n a multiple of VL. */
    private static void encodeColumns(Scratch sc, float[] x, int off, int n, float[] s, byte[] codes) {
        int[] tmp = sc.ints;
        for (int j = 0; j < n; j += VL) {
            FloatVector xv = FloatVector.fromArray(F, x, off + j);
            IntVector vb = xv.div(FloatVector.fromArray(F, s, j)).reinterpretAsInts();
            IntVector ab = vb.and(ABS_MASK).min(SAT_BITS);
            IntVector eb = ab.and(EXP_MASK).max(MIN_EXP_BITS);
            IntVector sum = ab.reinterpretAsFloats().add(eb.add(MAGIC_ADD).reinterpretAsFloats()).reinterpretAsInts();
            IntVector code = sum.add(eb.lanewise(VectorOperators.LSHR, 20))
                    .or(vb.lanewise(VectorOperators.LSHR, 24).and(SIGN_BYTE));
            if (B != null) {
                ((ByteVector) code.convertShape(VectorOperators.I2B, B, 0)).intoArray(codes, off + j);
            } else {
                code.intoArray(tmp, 0);
                for (int t = 0; t < VL; t++) {
                    codes[off + j + t] = (byte) tmp[t];
                }
            }
        }
    }

    /**
     * {@code dst[0, rows·cols) = decode(code) · scale} exactly as {@link QuantizedMatrix#dequantize()} computes it.
     */
    public static void dequantize(QuantizedMatrix q, float[] dst) {
        int rows = q.rows();
        int cols = q.cols();
        if (dst.length < (long) rows * cols) {
            throw new IllegalArgumentException("dst has " + dst.length + " elements, expected at least [" + rows
                    + ", " + cols + "] = " + (long) rows * cols);
        }
        byte[] codes = q.codes();
        float[] scales = q.scales();
        int tileRows = q.tileRows();
        int tileCols = q.tileCols();
        int sCols = q.scaleCols();
        for (int r = 0; r < rows; r++) {
            int sRow = (r / tileRows) * sCols;
            int base = r * cols;
            if (tileCols == 1) {
                decodeColumns(codes, base, cols, scales, sRow, dst);
            } else {
                for (int c0 = 0; c0 < cols; c0 += tileCols) {
                    decodeSpan(codes, base + c0, Math.min(tileCols, cols - c0), scales[sRow + c0 / tileCols], dst);
                }
            }
        }
    }

    /**
     * {@code dst[off + j] = decode(codes[off + j]) · s} for j in [0, n). Decoding without a table: magnitude
     * m = E·8 + M has fp32 bits {@code (m << 20) + (120 << 23)} when E ≥ 1; for E = 0 the bits
     * {@code (m << 20) + (121 << 23)} are 2^-6·(1 + M/8), minus 2^-6 exactly M·2^-9; the two NaN codes give NaN.
     */
    private static void decodeSpan(byte[] codes, int off, int n, float s, float[] dst) {
        int j = 0;
        if (B != null) {
            FloatVector sv = FloatVector.broadcast(F, s);
            FloatVector nan = FloatVector.broadcast(F, Float.NaN);
            FloatVector zero = FloatVector.zero(F);
            FloatVector minNormal = FloatVector.broadcast(F, 0x1p-6f);
            for (; j <= n - VL; j += VL) {
                IntVector c = (IntVector) ByteVector.fromArray(B, codes, off + j).convertShape(VectorOperators.B2I, I,
                        0);
                IntVector mag = c.and(0x7F);
                VectorMask<Integer> sub = mag.lt(8);
                IntVector bits = mag.lanewise(VectorOperators.LSHL, 20).add(120 << 23)
                        .add(IntVector.zero(I).blend(1 << 23, sub));
                FloatVector v = bits.reinterpretAsFloats().sub(zero.blend(minNormal, sub.cast(F)));
                v = v.reinterpretAsInts().or(c.and(SIGN_BYTE).lanewise(VectorOperators.LSHL, 24)).reinterpretAsFloats();
                v.blend(nan, mag.eq(0x7F).cast(F)).mul(sv).intoArray(dst, off + j);
            }
        }
        for (; j < n; j++) {
            dst[off + j] = LUT[codes[off + j] & 0xFF] * s;
        }
    }

    /** {@code dst[off + j] = decode(codes[off + j]) · scales[sOff + j]} for j in [0, n), as {@link #decodeSpan}. */
    private static void decodeColumns(byte[] codes, int off, int n, float[] scales, int sOff, float[] dst) {
        int j = 0;
        if (B != null) {
            FloatVector nan = FloatVector.broadcast(F, Float.NaN);
            FloatVector zero = FloatVector.zero(F);
            FloatVector minNormal = FloatVector.broadcast(F, 0x1p-6f);
            for (; j <= n - VL; j += VL) {
                IntVector c = (IntVector) ByteVector.fromArray(B, codes, off + j).convertShape(VectorOperators.B2I, I,
                        0);
                IntVector mag = c.and(0x7F);
                VectorMask<Integer> sub = mag.lt(8);
                IntVector bits = mag.lanewise(VectorOperators.LSHL, 20).add(120 << 23)
                        .add(IntVector.zero(I).blend(1 << 23, sub));
                FloatVector v = bits.reinterpretAsFloats().sub(zero.blend(minNormal, sub.cast(F)));
                v = v.reinterpretAsInts().or(c.and(SIGN_BYTE).lanewise(VectorOperators.LSHL, 24)).reinterpretAsFloats();
                v.blend(nan, mag.eq(0x7F).cast(F)).mul(FloatVector.fromArray(F, scales, sOff + j))
                        .intoArray(dst, off + j);
            }
        }
        for (; j < n; j++) {
            dst[off + j] = LUT[codes[off + j] & 0xFF] * scales[sOff + j];
        }
    }
}
