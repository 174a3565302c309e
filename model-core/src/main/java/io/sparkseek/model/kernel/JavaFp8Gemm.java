package io.sparkseek.model.kernel;

import io.sparkseek.model.fp8.Fp8Gemm;
import io.sparkseek.model.fp8.QuantizedMatrix;
import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fast CPU path of the block-scaled FP8 GEMMs (spec §8.3–§8.4) with the Vector API: same operands, groupings and
 * results as the scalar reference {@link Fp8Gemm} with {@link Fp8Gemm.Accumulation#DEFAULT} (promotion every 128,
 * fp32 sums), <b>bit for bit</b>.
 *
 * <p>Algorithm (INFRA.md: decode while packing, K block = scale group): the inner dimension runs in chunks of 128
 * (one scale group). For each chunk, the E4M3 codes of both operands are decoded to float (×1, no scale: exact)
 * into packed panels, A into {@value #MR}-row panels and B into {@code NR = 2·VL}-column panels, together with
 * the chunk's group scales of each row and column. A register-blocked micro-kernel then forms the chunk partials
 * as FMA chains in order of the inner index starting from zero, and promotes them into C:
 * {@code c += (sa · sb) · partial} (multiply, multiply, add; no fusion). Since every product of two E4M3 values is
 * exact in fp32, {@code fma(a, b, acc)} rounds exactly like the reference's {@code acc + a·b}, and the chunks are
 * promoted in the same order, so each element equals {@link Fp8Gemm}'s. Work is split over whole row panels of C
 * only, so results never depend on the thread count.
 */
public final class JavaFp8Gemm {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    /** Rows of the micro-tile. */
    static final int MR = 8;
    /** Columns of the micro-tile: two vectors. */
    static final int NR = 2 * VL;
    /** Inner-dimension block = one scale group = the promotion interval. */
    static final int KC = QuantizedMatrix.GROUP_SIZE;
    /** Rows of A packed at once (multiple of MR). */
    static final int MC = 128;
    /** Columns of B packed at once (multiple of NR and of 128). */
    static final int NC = 512;
    /** Chunks packed at once: a tile of C runs them back to back while it is in L1. */
    static final int CH = 2;
    /** Below this many flops a product runs on the calling thread. */
    static final long PAR_MIN_FLOPS = 1L << 22;

    private static final float[] LUT = new float[256];

    static {
        for (int i = 0; i < 256; i++) {
            LUT[i] = QuantizedMatrix.FORMAT.decode(i);
        }
    }

    private static final float[] ZERO_ROW = new float[NR];

    /** Per-thread packing buffers. */
    static final class Workspace {
        final float[] a = new float[CH * MC * KC];
        final float[] b = new float[CH * NC * KC];
        final float[] sa = new float[CH * MC];
        final float[] sb = new float[CH * NC];
        final float[] tile = new float[MR * NR];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private JavaFp8Gemm() {
    }

    /** Y[M,N] = X·Wᵀ; x: [M,K] in 1×128 tiles, w: [N,K] in 128×128 blocks; returns row-major Y. */
    public static float[] fprop(ComputePool pool, QuantizedMatrix x, QuantizedMatrix w) {
        float[] y = new float[x.rows() * w.rows()];
        fprop(pool, x, w, y);
        return y;
    }

    /** As {@link #fprop(ComputePool, QuantizedMatrix, QuantizedMatrix)}, into {@code y[0, M·N)} (overwritten). */
    public static void fprop(ComputePool pool, QuantizedMatrix x, QuantizedMatrix w, float[] y) {
        Fp8Gemm.requireTiles("fprop X", x, 1, KC);
        Fp8Gemm.requireTiles("fprop W", w, KC, KC);
        Fp8Gemm.requireInner("fprop", "X cols", x.cols(), "W cols", w.cols());
        gemm(pool, Op.of(x, true), Op.of(w, true), x.rows(), w.rows(), x.cols(), y);
    }

    /** dX[M,K] = dY·W; dy: [M,N] in 1×128 tiles along N, w: [N,K] in 128×128 blocks; returns row-major dX. */
    public static float[] dgrad(ComputePool pool, QuantizedMatrix dy, QuantizedMatrix w) {
        float[] dx = new float[dy.rows() * w.cols()];
        dgrad(pool, dy, w, dx);
        return dx;
    }

    /** As {@link #dgrad(ComputePool, QuantizedMatrix, QuantizedMatrix)}, into {@code dx[0, M·K)} (overwritten). */
    public static void dgrad(ComputePool pool, QuantizedMatrix dy, QuantizedMatrix w, float[] dx) {
        Fp8Gemm.requireTiles("dgrad dY", dy, 1, KC);
        Fp8Gemm.requireTiles("dgrad W", w, KC, KC);
        Fp8Gemm.requireInner("dgrad", "dY cols", dy.cols(), "W rows", w.rows());
        gemm(pool, Op.of(dy, true), Op.of(w, false), dy.rows(), w.cols(), dy.cols(), dx);
    }

    /** dW[N,K] = dYᵀ·X; dy: [M,N] and x: [M,K], both in 128×1 tiles along tokens M; returns row-major dW. */
    public static float[] wgrad(ComputePool pool, QuantizedMatrix dy, QuantizedMatrix x) {
        float[] dw = new float[dy.cols() * x.cols()];
        wgrad(pool, dy, x, dw);
        return dw;
    }

    /** As {@link #wgrad(ComputePool, QuantizedMatrix, QuantizedMatrix)}, into {@code dw[0, N·K)} (overwritten). */
    public static void wgrad(ComputePool pool, QuantizedMatrix dy, QuantizedMatrix x, float[] dw) {
        Fp8Gemm.requireTiles("wgrad dY", dy, KC, 1);
        Fp8Gemm.requireTiles("wgrad X", x, KC, 1);
        Fp8Gemm.requireInner("wgrad", "dY rows", dy.rows(), "X rows", x.rows());
        gemm(pool, Op.of(dy, false), Op.of(x, false), dy.cols(), x.cols(), dy.rows(), dw);
    }

    /**
     * An operand read as {@code op(outer, p)}, p the inner index: element at {@code codes[outer·os + p·ps]}; its
     * scale from the tile holding (outer, p), in matrix coordinates per {@code innerIsCols}.
     */
    private record Op(QuantizedMatrix q, boolean innerIsCols, int os, int ps) {

        static Op of(QuantizedMatrix q, boolean innerIsCols) {
            Objects.requireNonNull(q, "operand");
            return innerIsCols ? new Op(q, true, q.cols(), 1) : new Op(q, false, 1, q.cols());
        }

        float scale(int outer, int p) {
            return innerIsCols ? q.scale(outer / q.tileRows(), p / q.tileCols())
                    : q.scale(p / q.tileRows(), outer / q.tileCols());
        }

        /**
         * Decodes op(o0 + r, p0 + p) for r &lt; n, p &lt; kc into dst[d + (r / w)·w·kc + p·w + r % w] (panels of
         * width w) + dOff, rows past n up to a multiple of w zero; scales of the chunk into sc[sOff + r] (0 past n).
         */
        void pack(int o0, int n, int p0, int kc, int w, float[] dst, int dOff, float[] sc, int sOff) {
            byte[] codes = q.codes();
            int padded = (n + w - 1) / w * w;
            for (int r = 0; r < padded; r++) {
                int d = dOff + (r / w) * w * kc + r % w;
                if (r % 8 == 0 && r + 8 <= n) {
                    // Eight rows at once: one pass over p, eight consecutive stores per p.
                    for (int t = 0; t < 8; t++) {
                        sc[sOff + r + t] = scale(o0 + r + t, p0);
                    }
                    int s = (o0 + r) * os + p0 * ps;
                    int s1 = s + os;
                    int s2 = s + 2 * os;
                    int s3 = s + 3 * os;
                    int s4 = s + 4 * os;
                    int s5 = s + 5 * os;
                    int s6 = s + 6 * os;
                    int s7 = s + 7 * os;
                    for (int p = 0, e = 0; p < kc; p++, e += ps, d += w) {
                        dst[d] = LUT[codes[s + e] & 0xFF];
                        dst[d + 1] = LUT[codes[s1 + e] & 0xFF];
                        dst[d + 2] = LUT[codes[s2 + e] & 0xFF];
                        dst[d + 3] = LUT[codes[s3 + e] & 0xFF];
                        dst[d + 4] = LUT[codes[s4 + e] & 0xFF];
                        dst[d + 5] = LUT[codes[s5 + e] & 0xFF];
                        dst[d + 6] = LUT[codes[s6 + e] & 0xFF];
                        dst[d + 7] = LUT[codes[s7 + e] & 0xFF];
                    }
                    r += 7;
                } else if (r < n) {
                    sc[sOff + r] = scale(o0 + r, p0);
                    int s = (o0 + r) * os + p0 * ps;
                    for (int p = 0; p < kc; p++, s += ps, d += w) {
                        dst[d] = LUT[codes[s] & 0xFF];
                    }
                } else {
                    sc[sOff + r] = 0f;
                    for (int p = 0; p < kc; p++, d += w) {
                        dst[d] = 0f;
                    }
                }
            }
        }
    }

    private static void gemm(ComputePool pool, Op a, Op b, int m, int n, int k, float[] c) {
        if (c.length < (long) m * n) {
            throw new IllegalArgumentException("output has " + c.length + " elements, needs at least " + m + "x" + n);
        }
        if (m == 0 || n == 0 || k == 0) {
            Arrays.fill(c, 0, m * n, 0f);
            return;
        }
        int mPanels = (m + MR - 1) / MR;
        boolean parallel = pool.threads() > 1 && 2L * m * n * k >= PAR_MIN_FLOPS;
        if (parallel) {
            pool.parallelFor(mPanels, 1, (lo, hi) -> blocked(a, b, lo * MR, Math.min(m, hi * MR), n, k, c));
        } else {
            blocked(a, b, 0, m, n, k, c);
        }
    }

    /** C[m0:m1, :] with this thread's buffers. */
    private static void blocked(Op a, Op b, int m0, int m1, int n, int k, float[] c) {
        Workspace ws = WORKSPACE.get();
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += CH * KC) {
                int nch = Math.min(CH, (k - pc + KC - 1) / KC);
                for (int ch = 0; ch < nch; ch++) {
                    int p0 = pc + ch * KC;
                    b.pack(jc, nc, p0, Math.min(KC, k - p0), NR, ws.b, ch * NC * KC, ws.sb, ch * NC);
                }
                for (int ic = m0; ic < m1; ic += MC) {
                    int mc = Math.min(MC, m1 - ic);
                    for (int ch = 0; ch < nch; ch++) {
                        int p0 = pc + ch * KC;
                        a.pack(ic, mc, p0, Math.min(KC, k - p0), MR, ws.a, ch * MC * KC, ws.sa, ch * MC);
                    }
                    macro(pc, k, nch, mc, nc, ws, c, ic * n + jc, n);
                }
            }
        }
    }

    /** Chunks pc, pc+128, ... (nch of them, in order) on every tile of one mc × nc block of C. */
    private static void macro(int pc, int k, int nch, int mc, int nc, Workspace ws, float[] c, int cBase,
                              int ldc) {
        float[] tile = ws.tile;
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int co = cBase + ir * ldc + jr;
                boolean full = mr == MR && nr == NR;
                if (!full) {
                    // Partial tile: promote into a scratch tile holding the valid part of C, copy it back.
                    Arrays.fill(tile, 0f);
                    for (int r = 0; r < mr; r++) {
                        System.arraycopy(c, co + r * ldc, tile, r * NR, nr);
                    }
                }
                for (int ch = 0; ch < nch; ch++) {
                    int p0 = pc + ch * KC;
                    int kc = Math.min(KC, k - p0);
                    int ao = ch * MC * KC + ir * kc;
                    int bo = ch * NC * KC + jr * kc;
                    if (full) {
                        kernel(kc, ws.a, ao, ws.b, bo, ws.sa, ch * MC + ir, ws.sb, ch * NC + jr, c, co, ldc, p0 > 0);
                    } else {
                        kernel(kc, ws.a, ao, ws.b, bo, ws.sa, ch * MC + ir, ws.sb, ch * NC + jr, tile, 0, NR,
                                p0 > 0);
                    }
                }
                if (!full) {
                    for (int r = 0; r < mr; r++) {
                        System.arraycopy(tile, r * NR, c, co + r * ldc, nr);
                    }
                }
            }
        }
    }

    /**
     * One chunk on an 8 × 2VL tile: partial(r, j) = FMA chain over p &lt; kc of A(r, p)·B(p, j) from zero, with
     * A(r, p) = ap[ao + p·MR + r] and B(p, j) = bp[bo + p·NR + j]; then c(r, j) += (sa[r] · sb[j]) · partial.
     */
    static void kernel(int kc, float[] ap, int ao, float[] bp, int bo, float[] sa, int sao, float[] sb, int sbo,
                       float[] c, int co, int ldc, boolean load) {
        FloatVector c00 = FloatVector.fromArray(S, ZERO_ROW, 0);
        FloatVector c01 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c40 = c00;
        FloatVector c41 = c00;
        FloatVector c50 = c00;
        FloatVector c51 = c00;
        FloatVector c60 = c00;
        FloatVector c61 = c00;
        FloatVector c70 = c00;
        FloatVector c71 = c00;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + VL);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ao]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, ap[ao + 7]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
            ao += MR;
            bo += NR;
        }
        // Promotion: c + (sa·sb)·partial, the scale product as exactly-typed receiver (see CpuGemm.kernelP2).
        FloatVector sb0 = FloatVector.fromArray(S, sb, sbo);
        FloatVector sb1 = FloatVector.fromArray(S, sb, sbo + VL);
        FloatVector s;
        // The first chunk adds to zero (as the reference does) without reading the cold C.
        float[] src = load ? c : ZERO_ROW;
        int so = load ? co : 0;
        int sld = load ? ldc : 0;
        s = FloatVector.broadcast(S, sa[sao + 0]);
        FloatVector.fromArray(S, src, so + 0 * sld).add(s.mul(sb0).mul(c00)).intoArray(c, co + 0 * ldc);
        FloatVector.fromArray(S, src, so + 0 * sld + VL).add(s.mul(sb1).mul(c01))
                .intoArray(c, co + 0 * ldc + VL);
        s = FloatVector.broadcast(S, sa[sao + 1]);
        FloatVector.fromArray(S, src, so + 1 * sld).add(s.mul(sb0).mul(c10)).intoArray(c, co + 1 * ldc);
        FloatVector.fromArray(S, src, so + 1 * sld + VL).add(s.mul(sb1).mul(c11))
                .intoArray(c, co + 1 * ldc + VL);
        s = FloatVector.broadcast(S, sa[sao + 2]);
        FloatVector.fromArray(S, src, so + 2 * sld).add(s.mul(sb0).mul(c20)).intoArray(c, co + 2 * ldc);
        FloatVector.fromArray(S, src, so + 2 * sld + VL).add(s.mul(sb1).mul(c21))
                .intoArray(c, co + 2 * ldc + VL);
        s = FloatVector.broadcast(S, sa[sao + 3]);
        FloatVector.fromArray(S, src, so + 3 * sld).add(s.mul(sb0).mul(c30)).intoArray(c, co + 3 * ldc);
        FloatVector.fromArray(S, src, so + 3 * sld + VL).add(s.mul(sb1).mul(c31))
                .intoArray(c, co + 3 * ldc + VL);
        s = FloatVector.broadcast(S, sa[sao + 4]);
        FloatVector.fromArray(S, src, so + 4 * sld).add(s.mul(sb0).mul(c40)).intoArray(c, co + 4 * ldc);
        FloatVector.fromArray(S, src, so + 4 * sld + VL).add(s.mul(sb1).mul(c41))
                .intoArray(c, co + 4 * ldc + VL);
        s = FloatVector.broadcast(S, sa[sao + 5]);
        FloatVector.fromArray(S, src, so + 5 * sld).add(s.mul(sb0).mul(c50)).intoArray(c, co + 5 * ldc);
        FloatVector.fromArray(S, src, so + 5 * sld + VL).add(s.mul(sb1).mul(c51))
                .intoArray(c, co + 5 * ldc + VL);
        s = FloatVector.broadcast(S, sa[sao + 6]);
        FloatVector.fromArray(S, src, so + 6 * sld).add(s.mul(sb0).mul(c60)).intoArray(c, co + 6 * ldc);
        FloatVector.fromArray(S, src, so + 6 * sld + VL).add(s.mul(sb1).mul(c61))
                .intoArray(c, co + 6 * ldc + VL);
        s = FloatVector.broadcast(S, sa[sao + 7]);
        FloatVector.fromArray(S, src, so + 7 * sld).add(s.mul(sb0).mul(c70)).intoArray(c, co + 7 * ldc);
        FloatVector.fromArray(S, src, so + 7 * sld + VL).add(s.mul(sb1).mul(c71))
                .intoArray(c, co + 7 * ldc + VL);
    }
}
