package io.sparkseek.model.fp8;

/**
 * A row-major {@code [rows, cols]} matrix quantized to E4M3 in groups ("tiles") of {@code tileRows × tileCols}
 * elements, each with one fp32 scale, per spec §8.2: {@code amax = max(max|x|, 1e-4)} over the tile (a ragged edge
 * tile counts as zero-padded, which does not change the amax), {@code s = amax / 448}, optionally rounded up to a
 * power of two (ue8m0, spec §8.5), {@code q = E4M3_RNE(x / s)} saturating, and {@code x̂ = q · s}. {@code s} is the
 * dequantization multiplier (a checkpoint's {@code weight_scale_inv}).
 *
 * <p>Layout: {@code codes[r * cols + c]} (E4M3 bytes) and {@code scales[(r / tileRows) * scaleCols + c / tileCols]}
 * with {@code scaleRows = ceil(rows / tileRows)}, {@code scaleCols = ceil(cols / tileCols)}. Instances own their
 * arrays, except a {@link #view} over the prefixes of reused buffers (the arrays may then be longer); {@link #codes()}
 * and {@link #scales()} expose them without copying for fast kernels, which must not modify them. Use
 * {@link BlockQuantizer} (128×128 weight blocks) and {@link TileQuantizer} (1×128 and 128×1
 * activation tiles) to build one.
 */
public final class QuantizedMatrix {

    /** Group edge length of the DeepSeek-V3 recipe (spec §8.2): 1×128 tiles and 128×128 blocks. */
    public static final int GROUP_SIZE = 128;
    /** Lower bound applied to a tile's amax before dividing, so an all-zero tile gets a finite scale (spec §8.2). */
    public static final float AMAX_FLOOR = 1e-4f;
    /** Codes are OCP E4M3 on all tensors (spec §8.2). */
    public static final Fp8Format FORMAT = Fp8Format.E4M3;

    private static final int FP32_EXPONENT_SHIFT = 23;
    private static final int FP32_MANTISSA_MASK = 0x007F_FFFF;

    private final int rows;
    private final int cols;
    private final int tileRows;
    private final int tileCols;
    private final int scaleRows;
    private final int scaleCols;
    private final byte[] codes;
    private final float[] scales;

    /** Wraps existing codes and scales (not copied); checks that the lengths match the shape and tiling. */
    public QuantizedMatrix(int rows, int cols, int tileRows, int tileCols, byte[] codes, float[] scales) {
        this(rows, cols, tileRows, tileCols, codes, scales, false);
    }

    /**
     * Wraps the prefixes {@code codes[0, rows·cols)} and {@code scales[0, scaleRows·scaleCols)} of reused, possibly
     * longer buffers (not copied): a view that stays valid only until the buffers' owner quantizes into them again.
     * Elements past the prefixes are ignored.
     */
    public static QuantizedMatrix view(int rows, int cols, int tileRows, int tileCols, byte[] codes,
            float[] scales) {
        return new QuantizedMatrix(rows, cols, tileRows, tileCols, codes, scales, true);
    }

    private QuantizedMatrix(int rows, int cols, int tileRows, int tileCols, byte[] codes, float[] scales,
            boolean prefix) {
        if (rows < 0 || cols < 0 || tileRows <= 0 || tileCols <= 0) {
            throw new IllegalArgumentException("bad shape [" + rows + ", " + cols + "] or tile " + tileRows + "x"
                    + tileCols + ": sizes must be non-negative and tiles positive");
        }
        this.rows = rows;
        this.cols = cols;
        this.tileRows = tileRows;
        this.tileCols = tileCols;
        this.scaleRows = ceilDiv(rows, tileRows);
        this.scaleCols = ceilDiv(cols, tileCols);
        if (prefix ? codes.length < (long) rows * cols : codes.length != (long) rows * cols) {
            throw new IllegalArgumentException(
                    "codes has " + codes.length + " entries, expected rows*cols = " + (long) rows * cols);
        }
        long nScales = (long) scaleRows * scaleCols;
        if (prefix ? scales.length < nScales : scales.length != nScales) {
            throw new IllegalArgumentException("scales has " + scales.length + " entries, expected " + scaleRows
                    + "x" + scaleCols + " for shape [" + rows + ", " + cols + "] in " + tileRows + "x" + tileCols
                    + " tiles");
        }
        this.codes = codes;
        this.scales = scales;
    }

    /**
     * Quantizes row-major {@code x[0, rows * cols)} (a longer buffer is fine) in {@code tileRows × tileCols} tiles (spec §8.2).
     *
     * @param powerOfTwoScales round each scale up to a power of two (ue8m0), so that {@code |x / s| ≤ 448} still holds
     */
    public static QuantizedMatrix quantize(float[] x, int rows, int cols, int tileRows, int tileCols,
            boolean powerOfTwoScales) {
        requireQuantizable(x, rows, cols, tileRows, tileCols);
        int sRows = ceilDiv(rows, tileRows);
        int sCols = ceilDiv(cols, tileCols);
        byte[] codes = new byte[rows * cols];
        float[] scales = new float[sRows * sCols];
        for (int tr = 0; tr < sRows; tr++) {
            int r0 = tr * tileRows;
            int r1 = Math.min(rows, r0 + tileRows);
            for (int tc = 0; tc < sCols; tc++) {
                int c0 = tc * tileCols;
                int c1 = Math.min(cols, c0 + tileCols);
                float amax = 0f;
                for (int r = r0; r < r1; r++) {
                    for (int c = c0, i = r * cols + c0; c < c1; c++, i++) {
                        amax = Math.max(amax, Math.abs(x[i]));
                    }
                }
                if (!Float.isFinite(amax)) {
                    throw new IllegalArgumentException("cannot quantize to FP8: NaN or Inf in the tile at rows ["
                            + r0 + ", " + r1 + "), columns [" + c0 + ", " + c1 + ") of a [" + rows + ", " + cols
                            + "] tensor; the step diverged (lower the learning rate, check the data)");
                }
                float s = scaleFor(amax, powerOfTwoScales);
                scales[tr * sCols + tc] = s;
                for (int r = r0; r < r1; r++) {
                    for (int c = c0, i = r * cols + c0; c < c1; c++, i++) {
                        codes[i] = (byte) FORMAT.encode(x[i] / s, true);
                    }
                }
            }
        }
        return new QuantizedMatrix(rows, cols, tileRows, tileCols, codes, scales);
    }

    /** The preconditions of {@link #quantize}, with its messages, for other quantizers (fast paths, devices). */
    public static void requireQuantizable(float[] x, int rows, int cols, int tileRows, int tileCols) {
        if (rows < 0 || cols < 0 || x.length < (long) rows * cols) {
            throw new IllegalArgumentException("input has " + x.length + " elements, expected [" + rows + ", " + cols
                    + "] = " + (long) rows * cols + " (elements past that are ignored)");
        }
        if (tileRows <= 0 || tileCols <= 0) {
            throw new IllegalArgumentException("tile " + tileRows + "x" + tileCols + " must be positive");
        }
    }

    /** The scale of a tile with this amax: {@code max(amax, 1e-4) / 448}, optionally rounded up to 2^k (spec §8.2). */
    public static float scaleFor(float amax, boolean powerOfTwo) {
        float s = Math.max(amax, AMAX_FLOOR) / FORMAT.maxValue();
        return powerOfTwo ? ceilPowerOfTwo(s) : s;
    }

    /** Smallest power of two ≥ {@code s} for a positive normal {@code s} (ue8m0 rounding, spec §8.5). */
    public static float ceilPowerOfTwo(float s) {
        if (!(s >= Float.MIN_NORMAL) || Float.isInfinite(s)) {
            throw new IllegalArgumentException("power-of-two rounding needs a positive normal finite scale, got " + s);
        }
        int bits = Float.floatToRawIntBits(s);
        if ((bits & FP32_MANTISSA_MASK) == 0) {
            return s;
        }
        return Float.intBitsToFloat(((bits >>> FP32_EXPONENT_SHIFT) + 1) << FP32_EXPONENT_SHIFT);
    }

    /** Dequantizes to a new row-major {@code [rows, cols]} array: {@code decode(code) · scale} per element. */
    public float[] dequantize() {
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            int sRow = (r / tileRows) * scaleCols;
            for (int c = 0, i = r * cols; c < cols; c++, i++) {
                out[i] = FORMAT.decode(codes[i] & 0xFF) * scales[sRow + c / tileCols];
            }
        }
        return out;
    }

    /** The dequantized value of element {@code (r, c)}. */
    public float get(int r, int c) {
        if (r < 0 || r >= rows || c < 0 || c >= cols) {
            throw new IndexOutOfBoundsException("(" + r + ", " + c + ") outside [" + rows + ", " + cols + "]");
        }
        return FORMAT.decode(codes[r * cols + c] & 0xFF) * scale(r / tileRows, c / tileCols);
    }

    /** The scale of tile {@code (tileRow, tileCol)}. */
    public float scale(int tileRow, int tileCol) {
        if (tileRow < 0 || tileRow >= scaleRows || tileCol < 0 || tileCol >= scaleCols) {
            throw new IndexOutOfBoundsException(
                    "tile (" + tileRow + ", " + tileCol + ") outside the " + scaleRows + "x" + scaleCols + " grid");
        }
        return scales[tileRow * scaleCols + tileCol];
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int tileRows() {
        return tileRows;
    }

    public int tileCols() {
        return tileCols;
    }

    /** {@code ceil(rows / tileRows)}. */
    public int scaleRows() {
        return scaleRows;
    }

    /** {@code ceil(cols / tileCols)}. */
    public int scaleCols() {
        return scaleCols;
    }

    /** Row-major E4M3 codes (shared, do not modify; a {@link #view}'s array may be longer than rows·cols). */
    public byte[] codes() {
        return codes;
    }

    /** Row-major {@code [scaleRows, scaleCols]} scales (shared, do not modify; a {@link #view}'s may be longer). */
    public float[] scales() {
        return scales;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
