package io.sparkseek.model.fp8;

/**
 * A row-major {@code [rows, cols]} activation stored in E5M6 (12 bits in a short) in 1×128 tiles with power-of-two
 * scales: the {@code o_proj} input cache of the FP8 recipe (spec §8.5). {@code s = 2^ceil(log2(max(amax, 1e-4) /
 * 65024))}, {@code code = E5M6_RNE(x / s)}; dividing by a power of two is exact, so the only error is E5M6's 7
 * significant bits, and re-tiling the dequantized values (1×128 → 128×1 for wgrad) adds none of its own.
 */
public final class E5M6Tiles {
    private static final Fp8Format FORMAT = Fp8Format.E5M6;
    private static final int TILE = QuantizedMatrix.GROUP_SIZE;

    private final int rows;
    private final int cols;
    private final short[] codes;    // [≥ rows * cols]
    private final float[] scales;   // [≥ rows * ceil(cols / 128)]

    private E5M6Tiles(int rows, int cols, short[] codes, float[] scales) {
        this.rows = rows;
        this.cols = cols;
        this.codes = codes;
        this.scales = scales;
    }

    /** Quantizes {@code x[0, rows·cols)} (a longer buffer is fine); NaN or Inf gives a clear error. */
    public static E5M6Tiles quantize(float[] x, int rows, int cols) {
        if (rows < 0 || cols < 0 || x.length < (long) rows * cols) {
            throw new IllegalArgumentException("input has " + x.length + " elements, expected [" + rows + ", " + cols
                    + "]");
        }
        int sCols = (cols + TILE - 1) / TILE;
        return quantizeInto(x, rows, cols, new short[rows * cols], new float[rows * sCols]);
    }

    /**
     * As {@link #quantize}, bit for bit, into the prefixes {@code codes[0, rows·cols)} and
     * {@code scales[0, rows·ceil(cols / 128))} of reused buffers (every element of both is overwritten); the result
     * wraps them and stays valid until the caller quantizes into them again.
     */
    public static E5M6Tiles quantizeInto(float[] x, int rows, int cols, short[] codes, float[] scales) {
        if (rows < 0 || cols < 0 || x.length < (long) rows * cols) {
            throw new IllegalArgumentException("input has " + x.length + " elements, expected [" + rows + ", " + cols
                    + "]");
        }
        int sCols = (cols + TILE - 1) / TILE;
        if (codes.length < (long) rows * cols || scales.length < (long) rows * sCols) {
            throw new IllegalArgumentException("buffers of " + codes.length + " codes and " + scales.length
                    + " scales are too small for [" + rows + ", " + cols + "] in 1x" + TILE + " tiles");
        }
        for (int r = 0; r < rows; r++) {
            for (int tc = 0; tc < sCols; tc++) {
                int c0 = tc * TILE;
                int c1 = Math.min(cols, c0 + TILE);
                int base = r * cols;
                float amax = 0f;
                for (int c = c0; c < c1; c++) {
                    amax = Math.max(amax, Math.abs(x[base + c]));
                }
                if (!Float.isFinite(amax)) {
                    throw new IllegalArgumentException("cannot cache the o_proj input in E5M6: NaN or Inf in row " + r
                            + ", columns [" + c0 + ", " + c1 + "); the step diverged (lower the learning rate)");
                }
                float s = QuantizedMatrix.ceilPowerOfTwo(Math.max(amax, QuantizedMatrix.AMAX_FLOOR)
                        / FORMAT.maxValue());
                scales[r * sCols + tc] = s;
                for (int c = c0; c < c1; c++) {
                    codes[base + c] = (short) FORMAT.encode(x[base + c] / s, true);
                }
            }
        }
        return new E5M6Tiles(rows, cols, codes, scales);
    }

    /**
     * Wraps codes and scales that a faster path wrote exactly as {@link #quantizeInto} would have (the Vector-API
     * {@code kernel.E5M6Vectors}); the arrays are used as they are, not copied.
     */
    public static E5M6Tiles wrap(int rows, int cols, short[] codes, float[] scales) {
        int sCols = (cols + TILE - 1) / TILE;
        if (rows < 0 || cols < 0 || codes.length < (long) rows * cols || scales.length < (long) rows * sCols) {
            throw new IllegalArgumentException("buffers of " + codes.length + " codes and " + scales.length
                    + " scales do not hold [" + rows + ", " + cols + "] in 1x" + TILE + " tiles");
        }
        return new E5M6Tiles(rows, cols, codes, scales);
    }

    /** Writes {@code decode(code) · s} into {@code dst[0, rows·cols)}. */
    public void dequantizeInto(float[] dst) {
        int sCols = (cols + TILE - 1) / TILE;
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                dst[base + c] = FORMAT.decode(codes[base + c]) * scales[r * sCols + c / TILE];
            }
        }
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** The scale of row r's tile holding column c. */
    public float scale(int r, int c) {
        return scales[r * ((cols + TILE - 1) / TILE) + c / TILE];
    }
}
