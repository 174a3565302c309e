package io.sparkseek.model.kernel;

import io.sparkseek.model.fp8.Fp8Gemm;
import io.sparkseek.model.fp8.QuantizedMatrix;
import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fast CPU path of the block-scaled FP8 GEMMs (spec §8.3–§8.4) with the Vector API: same operands, groupings and
 * results as the scalar reference {@link Fp8Gemm} with {@link Fp8Gemm.Accumulation#DEFAULT} (promotion every 128,
 * fp32 sums), <b>bit for bit</b>.
 *
 * <p>Algorithm (INFRA.md: decode while packing, K block = scale group): the inner dimension runs in chunks of 128 (one
 * scale group). For each chunk, the E4M3 codes of both operands are decoded to float (×1, no scale: exact) into packed
 * buffers, together with the chunk's group scales of each row and column: B into {@code NR = 2·VL} column panels (B(p,
 * j) at p·NR + j); A row-major with row stride 128 where its rows are contiguous codes (fprop X, dgrad dY), otherwise
 * in blocks of {@link #AP} rows (A(r, p) at p·AP + r; wgrad dY). Wherever the codes are contiguous in the packed order
 * (A, and B of dgrad and wgrad, in whole blocks) they are decoded VL at a time with integer lane arithmetic ({@link
 * #decodeStrided}: the table's floats, NaN codes included); only fprop's B, a transpose, reads the table. A
 * register-blocked micro-kernel (one per A layout: {@link #kernel}, {@link #kernelP}) then forms the chunk partials as
 * FMA chains in order of the inner index starting from zero, and promotes them into C: {@code c += (sa · sb) · partial}
 * (multiply, multiply, add; no fusion). Since every product of two E4M3 values is exact in fp32, {@code fma(a, b, acc)}
 * rounds exactly like the reference's {@code acc + a·b}, and the chunks are promoted in the same order, so each element
 * equals {@link Fp8Gemm}'s. Work is split over whole row panels of C only, so results never depend on the thread count.
 */
public final class JavaFp8Gemm {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, S.vectorShape());
    /** VL byte lanes, for widening codes to int lanes; null when VL bytes are below the 64-bit shape. */
    static final VectorSpecies<Byte> BS = byteSpecies();
    /** Rows of the micro-tile. */
    static final int MR = 8;
    /**
     * Rows of A decoded at once when they are contiguous codes (wgrad's dY): the packed A then holds blocks of AP
     * rows, A(r, p) at (r / AP)·AP·KC + p·AP + r % AP; otherwise row-major, A(r, p) at r·KC + p. A multiple of MR.
     */
    static final int AP = Math.max(VL, MR);
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

    private static VectorSpecies<Byte> byteSpecies() {
        try {
            return VectorSpecies.of(byte.class, VectorShape.forBitSize(VL * Byte.SIZE));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static final int MIN_NORMAL_BITS = Float.floatToRawIntBits(0x1p-6f);
    private static final int NAN_BITS = 0x7FC0_0000;
    private static final int SIGN_BIT = 0x8000_0000;

    private static final float[] ZERO_ROW = new float[NR];

    /** Per-thread packing buffers. */
    static final class Workspace {
        final float[] a = new float[CH * MC * KC];
        final float[] b = new float[CH * NC * KC];
        final float[] sa = new float[CH * MC];
        final float[] sb = new float[CH * NC];
        final float[] tile = new float[MR * NR];
        /** One chunk's partial sums of a tile, between a kernel and {@link #promote}. */
        final float[] part = new float[MR * NR];
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
         * A panels: decodes op(o0 + r, p0 + p) for r &lt; n, p &lt; kc into dst[dOff + r·KC + p] with innerIsCols
         * (each row a contiguous run of codes), else into dst[dOff + (r / AP)·AP·KC + p·AP + r % AP] (AP rows
         * contiguous for each p); either way a vector at a time. Rows past n up to a multiple of AP are zero, and
         * the chunk's scales go to sc[sOff + r] (0 past n).
         */
        void packA(int o0, int n, int p0, int kc, float[] dst, int dOff, float[] sc, int sOff) {
            byte[] codes = q.codes();
            int padded = (n + AP - 1) / AP * AP;
            for (int r = 0; r < padded; r++) {
                sc[sOff + r] = r < n ? scale(o0 + r, p0) : 0f;
            }
            if (innerIsCols) {
                for (int r = 0; r < padded; r++) {
                    int d = dOff + r * KC;
                    if (r < n) {
                        decodeRun(codes, (o0 + r) * os + p0, kc, dst, d);
                    } else {
                        Arrays.fill(dst, d, d + kc, 0f);
                    }
                }
                return;
            }
            for (int r = 0; r < padded; r += AP) {
                int d = dOff + r * KC;
                if (r + AP <= n) {
                    for (int h = 0; h < AP; h += VL) {
                        decodeStrided(codes, o0 + r + h + p0 * ps, ps, kc, dst, d + h, AP);
                    }
                } else {
                    for (int t = 0; t < AP; t++) {
                        int s = o0 + r + t + p0 * ps;
                        for (int p = 0, e = d + t; p < kc; p++, s += ps, e += AP) {
                            dst[e] = r + t < n ? LUT[codes[s] & 0xFF] : 0f;
                        }
                    }
                }
            }
        }

        /**
         * B panels: decodes op(o0 + r, p0 + p) for r &lt; n, p &lt; kc into
         * dst[dOff + (r / NR)·NR·kc + p·NR + r % NR],
         * rows past n up to a multiple of NR zero; scales of the chunk into sc[sOff + r] (0 past n). Without
         * innerIsCols the NR columns of a full panel are contiguous codes for each p, decoded two vectors at a time.
         */
        void packB(int o0, int n, int p0, int kc, float[] dst, int dOff, float[] sc, int sOff) {
            byte[] codes = q.codes();
            int padded = (n + NR - 1) / NR * NR;
            for (int r = 0; r < padded; r++) {
                int d = dOff + (r / NR) * NR * kc + r % NR;
                if (r % NR == 0 && r + NR <= n && !innerIsCols) {
                    for (int t = 0; t < NR; t++) {
                        sc[sOff + r + t] = scale(o0 + r + t, p0);
                    }
                    for (int h = 0; h < NR; h += VL) {
                        decodeStrided(codes, o0 + r + h + p0 * ps, ps, kc, dst, d + h, NR);
                    }
                    r += NR - 1;
                } else if (r % 8 == 0 && r + 8 <= n) {
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
                    for (int p = 0, e = 0; p < kc; p++, e += ps, d += NR) {
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
                    for (int p = 0; p < kc; p++, s += ps, d += NR) {
                        dst[d] = LUT[codes[s] & 0xFF];
                    }
                } else {
                    sc[sOff + r] = 0f;
                    for (int p = 0; p < kc; p++, d += NR) {
                        dst[d] = 0f;
                    }
                }
            }
        }
    }

    /**
     * dst[d + p·ds + t] = decode(codes[s + p·ps + t]) for t &lt; VL, p &lt; kc; exactly the LUT's values. Without a
     * table, in integer lanes and one exact subtraction (no masks, no lane conversion but the widening of the
     * codes): magnitude m = E·8 + M has fp32 bits {@code (m << 20) + (120 << 23)} when E ≥ 1; when E = 0
     * ({@code sub} = 1) the bits {@code (m << 20) + (121 << 23)} are 2^-6·(1 + M/8), minus 2^-6 exactly M·2^-9
     * (+0 for M = 0); then the sign bit; m = 0x7F ((m + 1) reaches bit 7) gets the NaN exponent and quiet bit.
     */
    private static void decodeStrided(byte[] codes, int s, int ps, int kc, float[] dst, int d, int ds) {
        if (BS == null) {
            for (int p = 0; p < kc; p++) {
                decodeTail(codes, s + p * ps, VL, dst, d + p * ds);
            }
            return;
        }
        for (int p = 0; p < kc; p++, s += ps, d += ds) {
            IntVector c = (IntVector) ByteVector.fromArray(BS, codes, s).convertShape(VectorOperators.B2I, IS, 0);
            IntVector mag = c.and(0x7F);
            IntVector sub = mag.sub(8).lanewise(VectorOperators.LSHR, 31);
            IntVector bits = mag.lanewise(VectorOperators.LSHL, 20).add(sub.lanewise(VectorOperators.LSHL, 23))
                    .add(120 << 23);
            FloatVector v = bits.reinterpretAsFloats().sub(sub.neg().and(MIN_NORMAL_BITS).reinterpretAsFloats());
            bits = mag.add(1).lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 31).and(NAN_BITS);
            v.reinterpretAsInts().or(c.and(SIGN_BIT)).or(bits).reinterpretAsFloats().intoArray(dst, d);
        }
    }

    /** dst[d + j] = decode(codes[s + j]) for j &lt; n; as {@link #decodeStrided}, a scalar LUT tail. */
    private static void decodeRun(byte[] codes, int s, int n, float[] dst, int d) {
        int j = n / VL * VL;
        decodeStrided(codes, s, VL, j / VL, dst, d, VL);
        if (j < n) {
            decodeTail(codes, s + j, n - j, dst, d + j);
        }
    }

    /** dst[d + j] = decode(codes[s + j]) for j &lt; n, with the LUT. */
    private static void decodeTail(byte[] codes, int s, int n, float[] dst, int d) {
        for (int j = 0; j < n; j++) {
            dst[d + j] = LUT[codes[s + j] & 0xFF];
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
                    b.packB(jc, nc, p0, Math.min(KC, k - p0), ws.b, ch * NC * KC, ws.sb, ch * NC);
                }
                for (int ic = m0; ic < m1; ic += MC) {
                    int mc = Math.min(MC, m1 - ic);
                    for (int ch = 0; ch < nch; ch++) {
                        int p0 = pc + ch * KC;
                        a.packA(ic, mc, p0, Math.min(KC, k - p0), ws.a, ch * MC * KC, ws.sa, ch * MC);
                    }
                    macro(a.innerIsCols(), pc, k, nch, mc, nc, ws, c, ic * n + jc, n);
                }
            }
        }
    }

    /** Chunks pc, pc+128, ... (nch of them, in order) on every tile of one mc × nc block of C. */
    private static void macro(boolean aRows, int pc, int k, int nch, int mc, int nc, Workspace ws, float[] c,
                              int cBase, int ldc) {
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
                    int ao = ch * MC * KC + (aRows ? ir * KC : ir / AP * AP * KC + ir % AP);
                    int bo = ch * NC * KC + jr * kc;
                    float[] cc = full ? c : tile;
                    int cco = full ? co : 0;
                    int ccld = full ? ldc : NR;
                    if (aRows) {
                        kernel(kc, ws.a, ao, ws.b, bo, ws.part);
                    } else {
                        kernelP(kc, ws.a, ao, ws.b, bo, ws.part);
                    }
                    promote(ws.part, ws.sa, ch * MC + ir, ws.sb, ch * NC + jr, cc, cco, ccld, p0 > 0);
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
     * A(r, p) = ap[ao + r·KC + p] and B(p, j) = bp[bo + p·NR + j], into part[r·NR + j] ({@link #promote} then adds
     * (sa[r] · sb[j]) · partial to C).
     */
    static void kernel(int kc, float[] ap, int ao, float[] bp, int bo, float[] part) {
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
            x = FloatVector.broadcast(S, ap[ao + 1 * KC]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ao + 2 * KC]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ao + 3 * KC]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ao + 4 * KC]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ao + 5 * KC]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, ap[ao + 6 * KC]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, ap[ao + 7 * KC]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
            ao++;
            bo += NR;
        }
        // The partial sums go out through an exactly-typed receiver (see CpuGemm.kernelP2); promote() scales them.
        FloatVector one = FloatVector.broadcast(S, 1f);
        one.mul(c00).intoArray(part, 0 * NR);
        one.mul(c01).intoArray(part, 0 * NR + VL);
        one.mul(c10).intoArray(part, 1 * NR);
        one.mul(c11).intoArray(part, 1 * NR + VL);
        one.mul(c20).intoArray(part, 2 * NR);
        one.mul(c21).intoArray(part, 2 * NR + VL);
        one.mul(c30).intoArray(part, 3 * NR);
        one.mul(c31).intoArray(part, 3 * NR + VL);
        one.mul(c40).intoArray(part, 4 * NR);
        one.mul(c41).intoArray(part, 4 * NR + VL);
        one.mul(c50).intoArray(part, 5 * NR);
        one.mul(c51).intoArray(part, 5 * NR + VL);
        one.mul(c60).intoArray(part, 6 * NR);
        one.mul(c61).intoArray(part, 6 * NR + VL);
        one.mul(c70).intoArray(part, 7 * NR);
        one.mul(c71).intoArray(part, 7 * NR + VL);
    }

    /**
     * {@link #kernel} with A in blocks of {@link #AP} rows: the same FMA chains, with
     * A(r, p) = ap[ao + p·AP + r].
     */
    static void kernelP(int kc, float[] ap, int ao, float[] bp, int bo, float[] part) {
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
            ao += AP;
            bo += NR;
        }
        // The partial sums go out through an exactly-typed receiver (see CpuGemm.kernelP2); promote() scales them.
        FloatVector one = FloatVector.broadcast(S, 1f);
        one.mul(c00).intoArray(part, 0 * NR);
        one.mul(c01).intoArray(part, 0 * NR + VL);
        one.mul(c10).intoArray(part, 1 * NR);
        one.mul(c11).intoArray(part, 1 * NR + VL);
        one.mul(c20).intoArray(part, 2 * NR);
        one.mul(c21).intoArray(part, 2 * NR + VL);
        one.mul(c30).intoArray(part, 3 * NR);
        one.mul(c31).intoArray(part, 3 * NR + VL);
        one.mul(c40).intoArray(part, 4 * NR);
        one.mul(c41).intoArray(part, 4 * NR + VL);
        one.mul(c50).intoArray(part, 5 * NR);
        one.mul(c51).intoArray(part, 5 * NR + VL);
        one.mul(c60).intoArray(part, 6 * NR);
        one.mul(c61).intoArray(part, 6 * NR + VL);
        one.mul(c70).intoArray(part, 7 * NR);
        one.mul(c71).intoArray(part, 7 * NR + VL);
    }

    /**
     * Promotion of one chunk: c(r, j) = c(r, j) + (sa[r]·sb[j])·part(r, j) over the 8 × 2VL tile (from zero instead
     * of c when not {@code load}: the first chunk adds to zero, as the reference does, without reading the cold C).
     * Kept out of the kernels: with it inlined there, in a JVM where FP32 GEMMs had run first, C2 compiled 4 of the
     * kernel's 16 vector stores as intrinsics and the rest as calls to the Vector API's Java fallback (FP8 GEMMs at
     * half speed); with it here, 11–12 of 16 in the same JVM (docs/benchmarks.md, "GEMMs against OpenBLAS").
     */
    static void promote(float[] part, float[] sa, int sao, float[] sb, int sbo, float[] c, int co, int ldc,
                        boolean load) {
        FloatVector sb0 = FloatVector.fromArray(S, sb, sbo);
        FloatVector sb1 = FloatVector.fromArray(S, sb, sbo + VL);
        float[] src = load ? c : ZERO_ROW;
        int so = load ? co : 0;
        int sld = load ? ldc : 0;
        for (int r = 0; r < MR; r++) {
            FloatVector s = FloatVector.broadcast(S, sa[sao + r]);
            FloatVector.fromArray(S, src, so + r * sld).add(s.mul(sb0).mul(FloatVector.fromArray(S, part, r * NR)))
                    .intoArray(c, co + r * ldc);
            FloatVector.fromArray(S, src, so + r * sld + VL)
                    .add(s.mul(sb1).mul(FloatVector.fromArray(S, part, r * NR + VL)))
                    .intoArray(c, co + r * ldc + VL);
        }
    }
}
