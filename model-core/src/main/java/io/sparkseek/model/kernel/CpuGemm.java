package io.sparkseek.model.kernel;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * FP32 GEMMs on the CPU with the Java Vector API. All matrices are row-major with explicit leading
 * dimensions, so a head's slice of a wider activation can be used in place.
 *
 * <ul>
 *   <li>{@link #nt}: C[M,N] (+)= A[M,K] · B[N,K]ᵀ — Linear forward (X·Wᵀ), attention scores (Q·Kᵀ)</li>
 *   <li>{@link #nn}: C[M,N] (+)= A[M,K] · B[K,N] — Linear dgrad (dY·W), attention output (P·V)</li>
 *   <li>{@link #tn}: C[M,N] (+)= A[K,M]ᵀ · B[K,N] — Linear wgrad (dYᵀ·X), dV = Pᵀ·dO</li>
 * </ul>
 *
 * <p>Products that are not tiny run a packed, cache-blocked (GotoBLAS-style) algorithm: A is packed K-major
 * into panels of {@value #MR} rows, B into panels of {@code NR = 2·VL} columns, in per-thread buffers, and a
 * register-blocked micro-kernel ({@value #MR} × NR accumulators) runs over them. Each element of C is one
 * FMA chain over p = 0..K-1 in order, starting from the old C (with {@code accumulate}) or from zero;
 * K-blocking only stores and reloads the running value, so the result depends neither on the blocking, nor
 * on the tile an element falls in, nor on the thread count. Work is split over whole panels of C only.
 * Tiny products take a simple unpacked path, chosen by shape alone (never by thread count); for
 * {@code nn} and {@code tn} it computes the very same FMA chains, for {@code nt} a vector dot product.
 *
 * <p>Vector-API rules followed here (see INFRA.md, "Speed traps"): vector values never cross a method
 * boundary in hot code; only one species is used; no vector method is called on a loop-carried vector
 * directly (type profiles polluted by another species elsewhere in the JVM then make C2 box every vector,
 * 50x slower); copies in cold code use {@code System.arraycopy}, which is fast also before JIT compilation.
 */
public final class CpuGemm {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Lanes per vector. */
    static final int VL = S.length();
    /** Rows of the micro-tile. */
    static final int MR = 8;
    /** Columns of the micro-tile: two vectors. */
    static final int NR = 2 * VL;
    /** K-block: one B micro-panel (KC × NR) stays in L1 while a block of A streams from L2. */
    static final int KC = 256;
    /** Rows of A packed at once (a multiple of MR): MC × KC floats sit in L2. */
    static final int MC = 128;
    /** Columns of B packed at once (a multiple of NR): KC × NC floats. */
    static final int NC = 1024;
    /** Below this many flops (2·M·N·K) a product runs on the calling thread only. */
    static final long PAR_MIN_FLOPS = 1L << 22;
    /** Below this many multiply-adds (M·N·K) the unpacked path is used. */
    static final long PACK_MIN_MACS = 512;
    /** {@code tn} reads A in place (no packing) when the block of C is at most this wide. */
    static final int TN_DIRECT_MAX_N = 4 * NR;

    /** A zero source row for starting accumulators without a vector phi. */
    private static final float[] ZERO_ROW = new float[NR];

    private static final int NT = 0;
    private static final int NN = 1;
    private static final int TN = 2;

    /** Per-thread packing buffers, allocated once per thread at their full (bounded) size. */
    static final class Workspace {
        final float[] a = new float[MC * KC];
        final float[] b = new float[NC * KC];
        final float[] tile = new float[MR * NR];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private CpuGemm() {
    }

    /** C[M,N] = A[M,K] · B[N,K]ᵀ, plus the old C when {@code accumulate}. */
    public static void nt(ComputePool pool, int m, int n, int k,
                          float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(NT, pool, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    /** C[M,N] = A[M,K] · B[K,N], plus the old C when {@code accumulate}. */
    public static void nn(ComputePool pool, int m, int n, int k,
                          float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(NN, pool, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    /** C[M,N] = A[K,M]ᵀ · B[K,N], plus the old C when {@code accumulate}. */
    public static void tn(ComputePool pool, int m, int n, int k,
                          float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(TN, pool, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    private static void gemm(int kind, ComputePool pool, int m, int n, int k,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float[] c, int cOff, int ldc, boolean accumulate) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if (k <= 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
                }
            }
            return;
        }
        long macs = (long) m * n * k;
        boolean parallel = pool.threads() > 1 && 2 * macs >= PAR_MIN_FLOPS;
        if (useSimple(kind, m, n, macs)) {
            // Unpacked: split over rows of C only.
            ComputePool.RangeBody body = (lo, hi) -> simple(kind, lo, hi, n, k,
                    a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
            if (parallel) {
                pool.parallelFor(m, 4, body);
            } else {
                body.run(0, m);
            }
            return;
        }
        int mPanels = (m + MR - 1) / MR;
        int nPanels = (n + NR - 1) / NR;
        if (!parallel) {
            blocked(kind, 0, m, 0, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
        } else if (mPanels >= nPanels) {
            pool.parallelFor(mPanels, 1, (lo, hi) -> blocked(kind, lo * MR, Math.min(m, hi * MR), 0, n, k,
                    a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate));
        } else {
            pool.parallelFor(nPanels, 1, (lo, hi) -> blocked(kind, 0, m, lo * NR, Math.min(n, hi * NR), k,
                    a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate));
        }
    }

    /**
     * Whether the unpacked path is faster: tiny products, a single row, or (for {@code nt}, whose packing
     * transposes both operands) very few columns; for {@code nn}/{@code tn} also a few rows with at least a
     * vector's worth of columns (row-wise axpy along N).
     */
    private static boolean useSimple(int kind, int m, int n, long macs) {
        if (macs < PACK_MIN_MACS || m < 2) {
            return true;
        }
        return kind == NT ? n < 4 : m < MR / 2 && n >= VL;
    }

    /** Whether {@code nt} of this shape takes the dot-product path (other rounding than the FMA chains). */
    static boolean ntUsesDotProducts(int m, int n, int k) {
        return useSimple(NT, m, n, (long) m * n * k);
    }

    /** The packed algorithm on the block C[m0:m1, n0:n1], with this thread's buffers. */
    private static void blocked(int kind, int m0, int m1, int n0, int n1, int k,
                                float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                float[] c, int cOff, int ldc, boolean accumulate) {
        Workspace ws = WORKSPACE.get();
        float[] ap = ws.a;
        float[] bp = ws.b;
        for (int jc = n0; jc < n1; jc += NC) {
            int nc = Math.min(NC, n1 - jc);
            // Packing A costs about as much as a product with one column panel (attention's P·V, dV): then A
            // is read in place. Row-major A (nt, nn) read in place makes a slower kernel (MR row streams), so
            // only then; A of tn (MR consecutive floats per k) reads as well as packed, so up to a few panels.
            boolean direct = kind == TN ? nc <= TN_DIRECT_MAX_N : nc <= NR;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                // Past the first K-block the running sums are in C: the kernel continues their FMA chains.
                boolean load = accumulate || pc > 0;
                if (kind == NT) {
                    packBT(b, bOff, ldb, jc, nc, pc, kc, bp);
                } else {
                    packBN(b, bOff, ldb, jc, nc, pc, kc, bp);
                }
                for (int ic = m0; ic < m1; ic += MC) {
                    int mc = Math.min(MC, m1 - ic);
                    int cBase = cOff + ic * ldc + jc;
                    if (direct && kind == TN) {
                        // A(i, p) = a[aOff + p·lda + i]: panels of MR consecutive columns, stepping lda per k.
                        macro(kc, mc, nc, a, aOff + pc * lda + ic, 1, 1, lda, true, bp, c, cBase, ldc, load, ws);
                    } else if (direct) {
                        // A(i, p) = a[aOff + i·lda + p]: MR rows read in place.
                        macro(kc, mc, nc, a, aOff + ic * lda + pc, lda, lda, 1, true, bp, c, cBase, ldc, load, ws);
                    } else {
                        if (kind == TN) {
                            packAT(a, aOff, lda, ic, mc, pc, kc, ap);
                        } else {
                            packAN(a, aOff, lda, ic, mc, pc, kc, ap);
                        }
                        macro(kc, mc, nc, ap, 0, kc, 1, MR, false, bp, c, cBase, ldc, load, ws);
                    }
                }
            }
        }
    }

    /**
     * Runs the micro-kernel over all tiles of one mc × nc block of C. Row panel {@code ir} of A starts at
     * {@code a[aBase + ir·panelStep]}, and A(r, p) lies {@code r·rs + p·ps} further (packed: panelStep = kc,
     * rs = 1, ps = MR); {@code inPlace} marks the caller's A, whose last partial panel must not be over-read.
     */
    private static void macro(int kc, int mc, int nc, float[] a, int aBase, int panelStep, int rs, int ps,
                              boolean inPlace, float[] bp, float[] c, int cBase, int ldc, boolean load,
                              Workspace ws) {
        float[] tile = ws.tile;
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int bo = jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int co = cBase + ir * ldc + jr;
                float[] pa = a;
                int ao = aBase + ir * panelStep;
                boolean rows = rs != 1;
                int as = rows ? rs : ps;
                if (mr < MR && inPlace) {
                    // Last rows of an in-place A: pack them, zero-padded, so nothing past the matrix is read.
                    if (rows) {
                        transposeEdge(a, ao, rs, mr, kc, ws.a, 0, MR);
                    } else {
                        for (int p = 0, s = ao, d = 0; p < kc; p++, s += ps, d += MR) {
                            System.arraycopy(a, s, ws.a, d, mr);
                            Arrays.fill(ws.a, d + mr, d + MR, 0f);
                        }
                    }
                    pa = ws.a;
                    ao = 0;
                    as = MR;
                    rows = false;
                }
                if (mr == MR && nr == NR) {
                    kernel(rows, true, kc, pa, ao, as, bp, bo, c, co, ldc, load);
                } else if (mr == MR && nr == VL) {
                    kernel(rows, false, kc, pa, ao, as, bp, bo, c, co, ldc, load);
                } else {
                    // Partial tile: run the full kernel on a scratch tile, copy the valid part back.
                    if (load) {
                        for (int r = 0; r < mr; r++) {
                            System.arraycopy(c, co + r * ldc, tile, r * NR, nr);
                        }
                    }
                    kernel(rows, nr > VL, kc, pa, ao, as, bp, bo, tile, 0, NR, load);
                    for (int r = 0; r < mr; r++) {
                        System.arraycopy(tile, r * NR, c, co + r * ldc, nr);
                    }
                }
            }
        }
    }

    /** Dispatches to the micro-kernel for A's layout ({@code rows}: row-major in place) and tile width. */
    private static void kernel(boolean rows, boolean twoVectors, int kc, float[] ap, int ao, int as,
                               float[] bp, int bo, float[] c, int co, int ldc, boolean load) {
        if (rows) {
            if (twoVectors) {
                kernelR2(kc, ap, ao, as, bp, bo, c, co, ldc, load);
            } else {
                kernelR1(kc, ap, ao, as, bp, bo, c, co, ldc, load);
            }
        } else if (twoVectors) {
            kernelP2(kc, ap, ao, as, bp, bo, c, co, ldc, load);
        } else {
            kernelP1(kc, ap, ao, as, bp, bo, c, co, ldc, load);
        }
    }

    // ---- packing: A into MR-row panels (ap[panel·MR·kc + p·MR + r]), B into NR-column panels
    // (bp[panel·NR·kc + p·NR + j]); rows/columns past the edge are zero.

    /** A is M×K row-major ({@code nt}, {@code nn}). */
    private static void packAN(float[] a, int aOff, int lda, int i0, int mc, int pc, int kc, float[] ap) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int d = ir * kc;
            int s = aOff + (i0 + ir) * lda + pc;
            if (mr == MR) {
                transpose8(a, s, lda, kc, ap, d, MR);
            } else {
                transposeEdge(a, s, lda, mr, kc, ap, d, MR);
            }
        }
    }

    /** A is K×M row-major ({@code tn}). */
    private static void packAT(float[] a, int aOff, int lda, int i0, int mc, int pc, int kc, float[] ap) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int d = ir * kc;
            int s = aOff + pc * lda + i0 + ir;
            for (int p = 0; p < kc; p++, s += lda, d += MR) {
                System.arraycopy(a, s, ap, d, mr);
                if (mr < MR) {
                    Arrays.fill(ap, d + mr, d + MR, 0f);
                }
            }
        }
    }

    /** B is K×N row-major ({@code nn}, {@code tn}). */
    private static void packBN(float[] b, int bOff, int ldb, int j0, int nc, int pc, int kc, float[] bp) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int d = jr * kc;
            int s = bOff + pc * ldb + j0 + jr;
            for (int p = 0; p < kc; p++, s += ldb, d += NR) {
                System.arraycopy(b, s, bp, d, nr);
                if (nr < NR) {
                    Arrays.fill(bp, d + nr, d + NR, 0f);
                }
            }
        }
    }

    /** B is N×K row-major ({@code nt}). */
    private static void packBT(float[] b, int bOff, int ldb, int j0, int nc, int pc, int kc, float[] bp) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int d = jr * kc;
            int s = bOff + (j0 + jr) * ldb + pc;
            int j = 0;
            for (; j + 8 <= nr; j += 8) {
                transpose8(b, s + j * ldb, ldb, kc, bp, d + j, NR);
            }
            for (; j < NR; j += 8) {
                transposeEdge(b, s + j * ldb, ldb, Math.max(0, nr - j), kc, bp, d + j, NR);
            }
        }
    }

    /** dst[d + p·ds + r] = src[s + r·ld + p] for r &lt; 8, p &lt; kc: eight rows at once, one pass. */
    private static void transpose8(float[] src, int s, int ld, int kc, float[] dst, int d, int ds) {
        int t0 = s;
        int t1 = s + ld;
        int t2 = s + 2 * ld;
        int t3 = s + 3 * ld;
        int t4 = s + 4 * ld;
        int t5 = s + 5 * ld;
        int t6 = s + 6 * ld;
        int t7 = s + 7 * ld;
        for (int p = 0; p < kc; p++, d += ds) {
            dst[d] = src[t0 + p];
            dst[d + 1] = src[t1 + p];
            dst[d + 2] = src[t2 + p];
            dst[d + 3] = src[t3 + p];
            dst[d + 4] = src[t4 + p];
            dst[d + 5] = src[t5 + p];
            dst[d + 6] = src[t6 + p];
            dst[d + 7] = src[t7 + p];
        }
    }

    /** Like {@link #transpose8} for {@code rows} &lt; 8 rows (src is not read past them); the rest become zero. */
    private static void transposeEdge(float[] src, int s, int ld, int rows, int kc, float[] dst, int d, int ds) {
        for (int r = 0; r < 8; r++) {
            if (r < rows) {
                for (int p = 0, q = d + r, t = s + r * ld; p < kc; p++, q += ds) {
                    dst[q] = src[t + p];
                }
            } else {
                for (int p = 0, q = d + r; p < kc; p++, q += ds) {
                    dst[q] = 0f;
                }
            }
        }
    }

    // ---- micro-kernels (generated; vectors stay local to one method: no FloatVector parameters)

    /**
     * C[8, 2VL] (+)= A · Bpanel over {@code kc} steps, A(r, p) = ap[ao + p·as + r]: one FMA chain per
     * element, in order of p, starting from C ({@code load}) or zero.
     */
    static void kernelP2(int kc, float[] ap, int ao, int as, float[] bp, int bo, float[] c, int co, int ldc,
                        boolean load) {
        // Without 'load' the accumulators start from a zero row (no vector phi before the hot loop).
        float[] src = load ? c : ZERO_ROW;
        int so = load ? co : 0;
        int sld = load ? ldc : 0;
        FloatVector c00 = FloatVector.fromArray(S, src, so);
        FloatVector c01 = FloatVector.fromArray(S, src, so + VL);
        FloatVector c10 = FloatVector.fromArray(S, src, so + 1 * sld);
        FloatVector c11 = FloatVector.fromArray(S, src, so + 1 * sld + VL);
        FloatVector c20 = FloatVector.fromArray(S, src, so + 2 * sld);
        FloatVector c21 = FloatVector.fromArray(S, src, so + 2 * sld + VL);
        FloatVector c30 = FloatVector.fromArray(S, src, so + 3 * sld);
        FloatVector c31 = FloatVector.fromArray(S, src, so + 3 * sld + VL);
        FloatVector c40 = FloatVector.fromArray(S, src, so + 4 * sld);
        FloatVector c41 = FloatVector.fromArray(S, src, so + 4 * sld + VL);
        FloatVector c50 = FloatVector.fromArray(S, src, so + 5 * sld);
        FloatVector c51 = FloatVector.fromArray(S, src, so + 5 * sld + VL);
        FloatVector c60 = FloatVector.fromArray(S, src, so + 6 * sld);
        FloatVector c61 = FloatVector.fromArray(S, src, so + 6 * sld + VL);
        FloatVector c70 = FloatVector.fromArray(S, src, so + 7 * sld);
        FloatVector c71 = FloatVector.fromArray(S, src, so + 7 * sld + VL);
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
            ao += as;
            bo += NR;
        }
        // Store through an exactly-typed receiver: 1·c is c bit for bit, but a method call on the loop phi
        // itself relies on type profiles, which another FloatVector species elsewhere in the JVM pollutes.
        FloatVector one = FloatVector.broadcast(S, 1f);
        one.mul(c00).intoArray(c, co);
        one.mul(c01).intoArray(c, co + VL);
        one.mul(c10).intoArray(c, co + 1 * ldc);
        one.mul(c11).intoArray(c, co + 1 * ldc + VL);
        one.mul(c20).intoArray(c, co + 2 * ldc);
        one.mul(c21).intoArray(c, co + 2 * ldc + VL);
        one.mul(c30).intoArray(c, co + 3 * ldc);
        one.mul(c31).intoArray(c, co + 3 * ldc + VL);
        one.mul(c40).intoArray(c, co + 4 * ldc);
        one.mul(c41).intoArray(c, co + 4 * ldc + VL);
        one.mul(c50).intoArray(c, co + 5 * ldc);
        one.mul(c51).intoArray(c, co + 5 * ldc + VL);
        one.mul(c60).intoArray(c, co + 6 * ldc);
        one.mul(c61).intoArray(c, co + 6 * ldc + VL);
        one.mul(c70).intoArray(c, co + 7 * ldc);
        one.mul(c71).intoArray(c, co + 7 * ldc + VL);
    }

    /**
     * As {@link #kernelP2} for C[8, VL] (the first VL columns of the NR-wide B panel).
     */
    static void kernelP1(int kc, float[] ap, int ao, int as, float[] bp, int bo, float[] c, int co, int ldc,
                        boolean load) {
        // Without 'load' the accumulators start from a zero row (no vector phi before the hot loop).
        float[] src = load ? c : ZERO_ROW;
        int so = load ? co : 0;
        int sld = load ? ldc : 0;
        FloatVector c00 = FloatVector.fromArray(S, src, so);
        FloatVector c10 = FloatVector.fromArray(S, src, so + 1 * sld);
        FloatVector c20 = FloatVector.fromArray(S, src, so + 2 * sld);
        FloatVector c30 = FloatVector.fromArray(S, src, so + 3 * sld);
        FloatVector c40 = FloatVector.fromArray(S, src, so + 4 * sld);
        FloatVector c50 = FloatVector.fromArray(S, src, so + 5 * sld);
        FloatVector c60 = FloatVector.fromArray(S, src, so + 6 * sld);
        FloatVector c70 = FloatVector.fromArray(S, src, so + 7 * sld);
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ao]);
            c00 = x.fma(b0, c00);
            x = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = x.fma(b0, c10);
            x = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = x.fma(b0, c20);
            x = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = x.fma(b0, c30);
            x = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = x.fma(b0, c40);
            x = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = x.fma(b0, c50);
            x = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = x.fma(b0, c60);
            x = FloatVector.broadcast(S, ap[ao + 7]);
            c70 = x.fma(b0, c70);
            ao += as;
            bo += NR;
        }
        // Store through an exactly-typed receiver: 1·c is c bit for bit, but a method call on the loop phi
        // itself relies on type profiles, which another FloatVector species elsewhere in the JVM pollutes.
        FloatVector one = FloatVector.broadcast(S, 1f);
        one.mul(c00).intoArray(c, co);
        one.mul(c10).intoArray(c, co + 1 * ldc);
        one.mul(c20).intoArray(c, co + 2 * ldc);
        one.mul(c30).intoArray(c, co + 3 * ldc);
        one.mul(c40).intoArray(c, co + 4 * ldc);
        one.mul(c50).intoArray(c, co + 5 * ldc);
        one.mul(c60).intoArray(c, co + 6 * ldc);
        one.mul(c70).intoArray(c, co + 7 * ldc);
    }

    /**
     * As {@link #kernelP2} with A(r, p) = ap[ao + r·as + p] (rows of a row-major A, read in place).
     */
    static void kernelR2(int kc, float[] ap, int ao, int as, float[] bp, int bo, float[] c, int co, int ldc,
                        boolean load) {
        // Without 'load' the accumulators start from a zero row (no vector phi before the hot loop).
        float[] src = load ? c : ZERO_ROW;
        int so = load ? co : 0;
        int sld = load ? ldc : 0;
        FloatVector c00 = FloatVector.fromArray(S, src, so);
        FloatVector c01 = FloatVector.fromArray(S, src, so + VL);
        FloatVector c10 = FloatVector.fromArray(S, src, so + 1 * sld);
        FloatVector c11 = FloatVector.fromArray(S, src, so + 1 * sld + VL);
        FloatVector c20 = FloatVector.fromArray(S, src, so + 2 * sld);
        FloatVector c21 = FloatVector.fromArray(S, src, so + 2 * sld + VL);
        FloatVector c30 = FloatVector.fromArray(S, src, so + 3 * sld);
        FloatVector c31 = FloatVector.fromArray(S, src, so + 3 * sld + VL);
        FloatVector c40 = FloatVector.fromArray(S, src, so + 4 * sld);
        FloatVector c41 = FloatVector.fromArray(S, src, so + 4 * sld + VL);
        FloatVector c50 = FloatVector.fromArray(S, src, so + 5 * sld);
        FloatVector c51 = FloatVector.fromArray(S, src, so + 5 * sld + VL);
        FloatVector c60 = FloatVector.fromArray(S, src, so + 6 * sld);
        FloatVector c61 = FloatVector.fromArray(S, src, so + 6 * sld + VL);
        FloatVector c70 = FloatVector.fromArray(S, src, so + 7 * sld);
        FloatVector c71 = FloatVector.fromArray(S, src, so + 7 * sld + VL);
        int a1 = ao + 1 * as;
        int a2 = ao + 2 * as;
        int a3 = ao + 3 * as;
        int a4 = ao + 4 * as;
        int a5 = ao + 5 * as;
        int a6 = ao + 6 * as;
        int a7 = ao + 7 * as;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + VL);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ao + p]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[a1 + p]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[a2 + p]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[a3 + p]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[a4 + p]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[a5 + p]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, ap[a6 + p]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, ap[a7 + p]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
            bo += NR;
        }
        // Store through an exactly-typed receiver: 1·c is c bit for bit, but a method call on the loop phi
        // itself relies on type profiles, which another FloatVector species elsewhere in the JVM pollutes.
        FloatVector one = FloatVector.broadcast(S, 1f);
        one.mul(c00).intoArray(c, co);
        one.mul(c01).intoArray(c, co + VL);
        one.mul(c10).intoArray(c, co + 1 * ldc);
        one.mul(c11).intoArray(c, co + 1 * ldc + VL);
        one.mul(c20).intoArray(c, co + 2 * ldc);
        one.mul(c21).intoArray(c, co + 2 * ldc + VL);
        one.mul(c30).intoArray(c, co + 3 * ldc);
        one.mul(c31).intoArray(c, co + 3 * ldc + VL);
        one.mul(c40).intoArray(c, co + 4 * ldc);
        one.mul(c41).intoArray(c, co + 4 * ldc + VL);
        one.mul(c50).intoArray(c, co + 5 * ldc);
        one.mul(c51).intoArray(c, co + 5 * ldc + VL);
        one.mul(c60).intoArray(c, co + 6 * ldc);
        one.mul(c61).intoArray(c, co + 6 * ldc + VL);
        one.mul(c70).intoArray(c, co + 7 * ldc);
        one.mul(c71).intoArray(c, co + 7 * ldc + VL);
    }

    /**
     * As {@link #kernelR2} for C[8, VL].
     */
    static void kernelR1(int kc, float[] ap, int ao, int as, float[] bp, int bo, float[] c, int co, int ldc,
                        boolean load) {
        // Without 'load' the accumulators start from a zero row (no vector phi before the hot loop).
        float[] src = load ? c : ZERO_ROW;
        int so = load ? co : 0;
        int sld = load ? ldc : 0;
        FloatVector c00 = FloatVector.fromArray(S, src, so);
        FloatVector c10 = FloatVector.fromArray(S, src, so + 1 * sld);
        FloatVector c20 = FloatVector.fromArray(S, src, so + 2 * sld);
        FloatVector c30 = FloatVector.fromArray(S, src, so + 3 * sld);
        FloatVector c40 = FloatVector.fromArray(S, src, so + 4 * sld);
        FloatVector c50 = FloatVector.fromArray(S, src, so + 5 * sld);
        FloatVector c60 = FloatVector.fromArray(S, src, so + 6 * sld);
        FloatVector c70 = FloatVector.fromArray(S, src, so + 7 * sld);
        int a1 = ao + 1 * as;
        int a2 = ao + 2 * as;
        int a3 = ao + 3 * as;
        int a4 = ao + 4 * as;
        int a5 = ao + 5 * as;
        int a6 = ao + 6 * as;
        int a7 = ao + 7 * as;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ao + p]);
            c00 = x.fma(b0, c00);
            x = FloatVector.broadcast(S, ap[a1 + p]);
            c10 = x.fma(b0, c10);
            x = FloatVector.broadcast(S, ap[a2 + p]);
            c20 = x.fma(b0, c20);
            x = FloatVector.broadcast(S, ap[a3 + p]);
            c30 = x.fma(b0, c30);
            x = FloatVector.broadcast(S, ap[a4 + p]);
            c40 = x.fma(b0, c40);
            x = FloatVector.broadcast(S, ap[a5 + p]);
            c50 = x.fma(b0, c50);
            x = FloatVector.broadcast(S, ap[a6 + p]);
            c60 = x.fma(b0, c60);
            x = FloatVector.broadcast(S, ap[a7 + p]);
            c70 = x.fma(b0, c70);
            bo += NR;
        }
        // Store through an exactly-typed receiver: 1·c is c bit for bit, but a method call on the loop phi
        // itself relies on type profiles, which another FloatVector species elsewhere in the JVM pollutes.
        FloatVector one = FloatVector.broadcast(S, 1f);
        one.mul(c00).intoArray(c, co);
        one.mul(c10).intoArray(c, co + 1 * ldc);
        one.mul(c20).intoArray(c, co + 2 * ldc);
        one.mul(c30).intoArray(c, co + 3 * ldc);
        one.mul(c40).intoArray(c, co + 4 * ldc);
        one.mul(c50).intoArray(c, co + 5 * ldc);
        one.mul(c60).intoArray(c, co + 6 * ldc);
        one.mul(c70).intoArray(c, co + 7 * ldc);
    }


    // ---- unpacked path for tiny products

    private static void simple(int kind, int lo, int hi, int n, int k,
                               float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                               float[] c, int cOff, int ldc, boolean accumulate) {
        if (kind == NT) {
            simpleNt(lo, hi, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
        } else {
            // nn: A[i,p] = a[aOff + i·lda + p]; tn: A[i,p] = a[aOff + p·lda + i].
            int aRow = kind == NN ? lda : 1;
            int aCol = kind == NN ? 1 : lda;
            simpleNn(lo, hi, n, k, a, aOff, aRow, aCol, b, bOff, ldb, c, cOff, ldc, accumulate);
        }
    }

    private static void simpleNt(int lo, int hi, int n, int k,
                                 float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                 float[] c, int cOff, int ldc, boolean accumulate) {
        int upper = S.loopBound(k);
        for (int i = lo; i < hi; i++) {
            int ai = aOff + i * lda;
            int ci = cOff + i * ldc;
            for (int j = 0; j < n; j++) {
                int bj = bOff + j * ldb;
                float s;
                int p = 0;
                if (upper > 0) {
                    FloatVector acc = FloatVector.zero(S);
                    for (; p < upper; p += VL) {
                        acc = FloatVector.fromArray(S, a, ai + p).fma(FloatVector.fromArray(S, b, bj + p), acc);
                    }
                    s = FloatVector.broadcast(S, 1f).mul(acc).reduceLanes(VectorOperators.ADD); // see kernelP2
                } else {
                    s = 0f;
                }
                for (; p < k; p++) {
                    s = Math.fma(a[ai + p], b[bj + p], s);
                }
                c[ci + j] = accumulate ? c[ci + j] + s : s;
            }
        }
    }

    /** C rows [lo, hi) as FMA chains over p, identical per element to the packed kernels. */
    private static void simpleNn(int lo, int hi, int n, int k,
                                 float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int ldb,
                                 float[] c, int cOff, int ldc, boolean accumulate) {
        int upper = S.loopBound(n);
        for (int i = lo; i < hi; i++) {
            int ci = cOff + i * ldc;
            if (!accumulate) {
                Arrays.fill(c, ci, ci + n, 0f);
            }
            int ai = aOff + i * aRow;
            for (int p = 0; p < k; p++, ai += aCol) {
                float av = a[ai];
                int bp = bOff + p * ldb;
                FloatVector va = FloatVector.broadcast(S, av);
                int j = 0;
                for (; j < upper; j += VL) {
                    va.fma(FloatVector.fromArray(S, b, bp + j), FloatVector.fromArray(S, c, ci + j))
                            .intoArray(c, ci + j);
                }
                for (; j < n; j++) {
                    c[ci + j] = Math.fma(av, b[bp + j], c[ci + j]);
                }
            }
        }
    }
}
