package io.sparkseek.model.fp8;

import java.util.Objects;

/**
 * Plain scalar reference of DeepSeek-V3's block-scaled FP8 GEMMs (spec §8.3, §8.4); the fast kernels are tested
 * against it. Matrices are row-major; X is {@code [M, K]} (tokens × in), W is {@code [N, K]} (out × in).
 *
 * <table>
 *   <caption>The three training GEMMs and their groupings (spec §8.4)</caption>
 *   <tr><th>GEMM</th><th>math</th><th>inner dim</th><th>operand A</th><th>operand B</th></tr>
 *   <tr><td>{@link #fprop}</td><td>{@code Y[M,N] = X·Wᵀ}</td><td>K</td><td>X 1×128 along K</td>
 *       <td>W 128×128</td></tr>
 *   <tr><td>{@link #dgrad}</td><td>{@code dX[M,K] = dY·W}</td><td>N</td><td>dY 1×128 along N</td>
 *       <td>the same W blocks</td></tr>
 *   <tr><td>{@link #wgrad}</td><td>{@code dW[N,K] = dYᵀ·X}</td><td>M</td><td>dY 128×1 along M</td>
 *       <td>X 128×1 along M</td></tr>
 * </table>
 *
 * <p>Arithmetic (spec §8.3, the formula of DeepSeek's {@code fp8_gemm_kernel}): every output element runs over the
 * inner dimension in chunks of the promotion interval N_C ({@link Accumulation#promotionInterval()}, default
 * 128 = one scale group). Within a chunk the products {@code decode(qa)·decode(qb)} of the raw E4M3 values (each
 * exact in fp32: at most 8 significant bits) are summed in the accumulator; at the end of the chunk the partial
 * sum is "promoted": {@code y += (sa · sb) · partial} in full fp32, with the two group scales of the chunk. N_C
 * must divide 128, so a chunk never straddles two scale groups (the scales are constant inside it); N_C = 32, 64
 * model promoting after every one or two WGMMAs. A ragged last group simply has a shorter last chunk.
 *
 * <p>Limited-precision accumulation (spec §8.3: Hopper keeps about 14 bits). We emulate it, not bit for bit, as a
 * running sum whose every value is rounded to {@link Accumulation#accumulatorBits()} significant bits (implicit
 * bit included; 24 = plain fp32, no extra rounding): {@code acc = round_b(acc + p)}, with {@code acc + p} first
 * computed in fp32 (a double rounding that is harmless at b ≪ 24) and {@code round_b} either to nearest, ties to
 * even, or toward zero (chopping, closer to the tensor cores' right-shift-and-drop alignment). Two models:
 * <ul>
 *   <li><b>with promotion</b> (N_C &gt; 0): the b-bit accumulator only runs inside one chunk, over the unscaled
 *       products; promotion and the running output are fp32.</li>
 *   <li><b>no promotion</b> ({@link Accumulation#NO_PROMOTION}): one b-bit accumulator runs over the whole inner
 *       dimension. Since the group scales change along it, each product is scaled before it is added:
 *       {@code acc = round_b(acc + (sa · sb) · (qa · qb))}, with {@code (sa · sb) · (qa · qb)} in fp32. This is
 *       what a tensor core accumulating over all of K would see on dequantized inputs.</li>
 * </ul>
 * With 24 bits and N_C = 128 (the {@link Accumulation#DEFAULT}) the result is DeepSeek's fix: exact products,
 * fp32 chunk sums, fp32 promotion.
 */
public final class Fp8Gemm {

    /** Scale-group length along the inner dimension (spec §8.2). */
    public static final int GROUP = QuantizedMatrix.GROUP_SIZE;
    /** Significant bits of an fp32 value (23 stored + the implicit bit). */
    public static final int FP32_SIGNIFICANT_BITS = 24;
    /** Significant bits kept by Hopper's FP8 tensor-core accumulation, per the DeepSeek-V3 report (spec §8.3). */
    public static final int HOPPER_ACCUMULATOR_BITS = 14;

    private static final int FP32_EXPONENT_MASK = 0x7F80_0000;

    /** How the running sum of a limited-precision accumulator is rounded to its significant bits. */
    public enum Rounding {
        /** Round to nearest, ties to even. */
        NEAREST_EVEN,
        /** Drop the low bits (round toward zero). */
        TOWARD_ZERO
    }

    /**
     * Accumulation model of the inner sums (see the class comment).
     *
     * @param promotionInterval N_C: a divisor of 128, or {@link #NO_PROMOTION} (0)
     * @param accumulatorBits   significant bits of the accumulator inside a promotion interval, 2..24
     * @param rounding          how the accumulator is rounded to those bits (irrelevant at 24)
     */
    public record Accumulation(int promotionInterval, int accumulatorBits, Rounding rounding) {

        /** Promotion interval value meaning: one limited-precision accumulator over the whole inner dimension. */
        public static final int NO_PROMOTION = 0;
        /** DeepSeek-V3's scheme: N_C = 128, exact fp32 accumulation within the chunk. */
        public static final Accumulation DEFAULT = new Accumulation(GROUP, FP32_SIGNIFICANT_BITS, Rounding.NEAREST_EVEN);

        public Accumulation {
            Objects.requireNonNull(rounding, "rounding");
            if (promotionInterval < 0 || (promotionInterval > 0 && GROUP % promotionInterval != 0)) {
                throw new IllegalArgumentException("promotionInterval " + promotionInterval
                        + " must divide " + GROUP + " (so a chunk never straddles two scale groups) or be 0 (none)");
            }
            if (accumulatorBits < 2 || accumulatorBits > FP32_SIGNIFICANT_BITS) {
                throw new IllegalArgumentException(
                        "accumulatorBits " + accumulatorBits + " must be in 2.." + FP32_SIGNIFICANT_BITS);
            }
        }

        /** A {@code bits}-bit accumulator promoted to fp32 every {@code promotionInterval} products. */
        public static Accumulation promoted(int promotionInterval, int bits, Rounding rounding) {
            return new Accumulation(promotionInterval, bits, rounding);
        }

        /** A {@code bits}-bit accumulator over the whole inner dimension, scales folded into the products. */
        public static Accumulation unpromoted(int bits, Rounding rounding) {
            return new Accumulation(NO_PROMOTION, bits, rounding);
        }

        public boolean promotes() {
            return promotionInterval != NO_PROMOTION;
        }
    }

    private Fp8Gemm() {
    }

    /** Y[M,N] = X·Wᵀ with {@link Accumulation#DEFAULT}; x: [M,K] in 1×128 tiles, w: [N,K] in 128×128 blocks. */
    public static float[] fprop(QuantizedMatrix x, QuantizedMatrix w) {
        return fprop(x, w, Accumulation.DEFAULT);
    }

    /** Y[M,N] = X·Wᵀ; x: [M,K] in 1×128 tiles, w: [N,K] in 128×128 blocks; returns row-major Y. */
    public static float[] fprop(QuantizedMatrix x, QuantizedMatrix w, Accumulation acc) {
        requireTiles("fprop X", x, 1, GROUP);
        requireTiles("fprop W", w, GROUP, GROUP);
        requireInner("fprop", "X cols", x.cols(), "W cols", w.cols());
        return gemm(new Operand(x, true), new Operand(w, true), x.rows(), w.rows(), x.cols(), acc);
    }

    /** dX[M,K] = dY·W with {@link Accumulation#DEFAULT}; dy: [M,N] in 1×128 tiles, w: [N,K] in 128×128 blocks. */
    public static float[] dgrad(QuantizedMatrix dy, QuantizedMatrix w) {
        return dgrad(dy, w, Accumulation.DEFAULT);
    }

    /** dX[M,K] = dY·W; dy: [M,N] in 1×128 tiles along N, w: [N,K] in 128×128 blocks; returns row-major dX. */
    public static float[] dgrad(QuantizedMatrix dy, QuantizedMatrix w, Accumulation acc) {
        requireTiles("dgrad dY", dy, 1, GROUP);
        requireTiles("dgrad W", w, GROUP, GROUP);
        requireInner("dgrad", "dY cols", dy.cols(), "W rows", w.rows());
        return gemm(new Operand(dy, true), new Operand(w, false), dy.rows(), w.cols(), dy.cols(), acc);
    }

    /** dW[N,K] = dYᵀ·X with {@link Accumulation#DEFAULT}; dy: [M,N], x: [M,K], both in 128×1 tiles. */
    public static float[] wgrad(QuantizedMatrix dy, QuantizedMatrix x) {
        return wgrad(dy, x, Accumulation.DEFAULT);
    }

    /** dW[N,K] = dYᵀ·X; dy: [M,N] and x: [M,K], both in 128×1 tiles along tokens M; returns row-major dW. */
    public static float[] wgrad(QuantizedMatrix dy, QuantizedMatrix x, Accumulation acc) {
        requireTiles("wgrad dY", dy, GROUP, 1);
        requireTiles("wgrad X", x, GROUP, 1);
        requireInner("wgrad", "dY rows", dy.rows(), "X rows", x.rows());
        return gemm(new Operand(dy, false), new Operand(x, false), dy.cols(), x.cols(), dy.rows(), acc);
    }

    /**
     * A quantized matrix read as {@code op(outer, p)} with p the GEMM inner index: along its columns
     * ({@code innerIsCols}, element (outer, p)) or along its rows (element (p, outer)).
     */
    private record Operand(QuantizedMatrix q, boolean innerIsCols) {

        float value(int outer, int p) {
            int i = innerIsCols ? outer * q.cols() + p : p * q.cols() + outer;
            return QuantizedMatrix.FORMAT.decode(q.codes()[i] & 0xFF);
        }

        /** Scale of the group holding inner index {@code p} (constant over p in one 128-group). */
        float scale(int outer, int p) {
            return innerIsCols ? q.scale(outer / q.tileRows(), p / q.tileCols())
                    : q.scale(p / q.tileRows(), outer / q.tileCols());
        }
    }

    /** C[rows, cols] with C[i,j] = Σ_p a(i,p)·b(j,p), chunked and scaled per {@code acc}. */
    private static float[] gemm(Operand a, Operand b, int rows, int cols, int inner, Accumulation acc) {
        Objects.requireNonNull(acc, "acc");
        float[] c = new float[rows * cols];
        int bits = acc.accumulatorBits();
        Rounding rounding = acc.rounding();
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float y = 0f;
                if (acc.promotes()) {
                    int nc = acc.promotionInterval();
                    for (int p0 = 0; p0 < inner; p0 += nc) {
                        int p1 = Math.min(inner, p0 + nc);
                        float partial = 0f;
                        for (int p = p0; p < p1; p++) {
                            partial = roundToBits(partial + a.value(i, p) * b.value(j, p), bits, rounding);
                        }
                        y += (a.scale(i, p0) * b.scale(j, p0)) * partial;
                    }
                } else {
                    for (int p = 0; p < inner; p++) {
                        float scaled = (a.scale(i, p) * b.scale(j, p)) * (a.value(i, p) * b.value(j, p));
                        y = roundToBits(y + scaled, bits, rounding);
                    }
                }
                c[i * cols + j] = y;
            }
        }
        return c;
    }

    /**
     * {@code v} rounded to {@code bits} significant bits (implicit bit included) by {@code rounding}; 24 bits, zero,
     * Inf and NaN pass through. Subnormals are rounded on the same bit positions (coarser than b bits; irrelevant
     * for GEMM sums).
     */
    public static float roundToBits(float v, int bits, Rounding rounding) {
        int shift = FP32_SIGNIFICANT_BITS - bits;
        int raw = Float.floatToRawIntBits(v);
        if (shift <= 0 || (raw & FP32_EXPONENT_MASK) == FP32_EXPONENT_MASK) {
            return v;
        }
        int mask = (1 << shift) - 1;
        if (rounding == Rounding.NEAREST_EVEN) {
            int lsb = (raw >>> shift) & 1;
            // Sign-magnitude: adding to the magnitude bits rounds |v|; a carry into the exponent is correct.
            raw += (1 << (shift - 1)) - 1 + lsb;
        }
        return Float.intBitsToFloat(raw & ~mask);
    }

    /** Precondition shared with the fast kernels: {@code q} is quantized in {@code tileRows × tileCols} tiles. */
    public static void requireTiles(String what, QuantizedMatrix q, int tileRows, int tileCols) {
        Objects.requireNonNull(q, what);
        if (q.tileRows() != tileRows || q.tileCols() != tileCols) {
            throw new IllegalArgumentException(what + " must be quantized in " + tileRows + "x" + tileCols
                    + " tiles, got " + q.tileRows() + "x" + q.tileCols());
        }
    }

    /** Precondition shared with the fast kernels: both operands have the same inner dimension. */
    public static void requireInner(String gemm, String aName, int aInner, String bName, int bInner) {
        if (aInner != bInner) {
            throw new IllegalArgumentException(
                    gemm + ": inner dimensions differ: " + aName + " = " + aInner + ", " + bName + " = " + bInner);
        }
    }
}
