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
 * into panels of {@value #MR} rows, B into panels of {@code NRW = 3·VL} columns, in per-thread buffers, and a
 * register-blocked micro-kernel ({@value #MR} × NRW accumulators, 8 × 48 with AVX-512) runs over them. Where
 * packing an operand would cost about as much as the product (one column panel; a few rows), the kernel reads
 * it in place instead, with {@code NR = 2·VL}-column tiles. Each element of C is one FMA chain over p = 0..K-1
 * in order, starting from the old C (with {@code accumulate}) or from zero; K-blocking only stores and reloads
 * the running value, so the result depends neither on the blocking, nor on packing, nor on the tile an element
 * falls in, nor on the thread count. Work is split over whole panels of C only. Tiny products take a simple
 * unpacked path, chosen by shape alone (never by thread count); for {@code nn} and {@code tn} it computes the
 * very same FMA chains, for {@code nt} vector dot products (another rounding, fixed by K).
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
    /**
     * Columns of the wide micro-tile (three vectors, 8 × 48 with AVX-512), run where both A and B are packed: 24 FMAs
     * per 3 loads and 8 broadcasts, where the 8 × 2VL tile issues 16 per 2 and 8. C2 emits no broadcast-FMAs, so
     * fewer instructions per FMA is what counts on a core whose front end is shared (12% faster in cache then).
     */
    static final int NRW = 3 * VL;
    /** K-block: one B micro-panel (KC × NR) stays in L1 while a block of A streams from L2. */
    static final int KC = 256;
    /** K-block of the wide tile: its B micro-panel (KC_WIDE × NRW: 24 KB with AVX-512) stays in half of L1. */
    static final int KC_WIDE = 128;
    /** Rows of A packed at once (a multiple of MR): MC × KC floats sit in L2. */
    static final int MC = 128;
    /** Columns of B packed at once (a multiple of NR and of NRW): KC × NC floats. */
    static final int NC = 960;
    /** Below this many flops (2·M·N·K) a product runs on the calling thread only. */
    static final long PAR_MIN_FLOPS = 1L << 22;
    /** Below this many multiply-adds (M·N·K) the unpacked path is used. */
    static final long PACK_MIN_MACS = 512;
    /** {@code tn} reads A in place (no packing) when the block of C is at most this wide. */
    static final int TN_DIRECT_MAX_N = 4 * NR;
    /** {@code nt} and {@code nn} read A's rows in place (no transposing pack) when C's column block is this narrow. */
    static final int ROWS_DIRECT_MAX_N = NR;
    /** {@code nn} and {@code tn} read B in place when a thread's block of C has at most this many rows. */
    static final int DIRECT_B_MAX_M = 4 * MR;
    /**
     * A thread's block of C above this many floats (1 MB) does not stay in L2 from one K-block to the next: then,
     * when K spans several K-blocks, B is packed whole (all K-blocks of a column block, if that takes at most
     * {@link #FULL_B_MAX_FLOATS}) and each row block of C runs through all of K while it is in cache, instead of
     * every K-block sweeping all of C (lm_head's dgrad and wgrad: 2 and 8 MB of C, 32 and 8 K-blocks).
     */
    static final long C_IN_CACHE_MAX_FLOATS = 1L << 18;
    /** The most floats of B packed whole for {@link #C_IN_CACHE_MAX_FLOATS} (16 MB per thread). */
    static final long FULL_B_MAX_FLOATS = 1L << 22;

    /**
     * Calls of each micro-kernel when the class loads ({@link #compileKernelsEarly}): enough invocations and loop
     * back-edges (8 per call) for C2's compile thresholds.
     */
    static final int EARLY_CALLS = 5000;
    /** A zero source row for starting accumulators without a vector phi. */
    private static final float[] ZERO_ROW = new float[4 * VL];

    private static final int NT = 0;
    private static final int NN = 1;
    private static final int TN = 2;

    /** Per-thread packing buffers, allocated once per thread at their full (bounded) size. */
    static final class Workspace {
        final float[] a = new float[MC * KC];
        final float[] b = new float[NC * KC];
        final float[] tile = new float[MR * NRW];
        /** All K-blocks of B's column block, packed (grown on first use; see C_IN_CACHE_MAX_FLOATS). */
        float[] bFull = new float[0];
        /** The last, partial panel of an operand read in place. */
        final float[] aEdge = new float[MR * KC];
        final float[] bEdge = new float[NR * KC];
        final Operand aPacked = new Operand();
        final Operand aIn = new Operand();
        final Operand bPacked = new Operand();
        final Operand bIn = new Operand();
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private CpuGemm() {
    }

    static {
        compileKernelsEarly();
    }

    /**
     * Runs every micro-kernel {@value #EARLY_CALLS} times on small scratch arrays when the class loads, so that C2
     * compiles them all early in the JVM's life (about 1 s, once per JVM). Compiled later — after other Vector-API code
     * has run, or after the first training steps — C2 left some of a kernel's vector stores as calls to the Vector
     * API's Java fallback in about half of fresh JVMs ({@code -XX:+LogCompilation}: 13 of 16 store intrinsics in
     * {@code kernelP2} and {@code kernelRP2}), which boxed 10–19 MB of vectors per training step; with this, 6 of 6
     * JVMs allocated nothing in the step (docs/benchmarks.md, "Allocation and heap"). Both values of {@code load} are
     * exercised so that the compiled code has no untaken branch to deoptimize on.
     */
    private static void compileKernelsEarly() {
        int kc = 8;
        float[] a = new float[MR * kc];
        float[] b = new float[NRW * kc];
        float[] c = new float[MR * NRW];
        boolean[] loads = {false, true};
        for (int i = 0; i < EARLY_CALLS / 2; i++) {
            for (boolean load : loads) {
                kernelPP3(kc, a, 0, b, 0, c, 0, NRW, load);
                kernelPW2(kc, a, 0, b, 0, c, 0, NRW, load);
                kernelPW1(kc, a, 0, b, 0, c, 0, NRW, load);
                kernelPP2(kc, a, 0, b, 0, c, 0, NR, load);
                kernelP2(kc, a, 0, MR, b, 0, NR, c, 0, NR, load);
                kernelP1(kc, a, 0, MR, b, 0, NR, c, 0, NR, load);
                kernelR2(kc, a, 0, kc, b, 0, NR, c, 0, NR, load);
                kernelR1(kc, a, 0, kc, b, 0, NR, c, 0, NR, load);
                kernelRP2(kc, a, 0, kc, b, 0, c, 0, NR, load);
            }
        }
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
        if (useSimple(kind, m, n, k, macs)) {
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
        } else if (m >= n || nPanels < 2) {
            // Each thread packs all of the operand along the dimension it does not split: split the longer one.
            pool.parallelFor(mPanels, 1, (lo, hi) -> blocked(kind, lo * MR, Math.min(m, hi * MR), 0, n, k,
                    a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate));
        } else {
            pool.parallelFor(nPanels, 1, (lo, hi) -> blocked(kind, 0, m, lo * NR, Math.min(n, hi * NR), k,
                    a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate));
        }
    }

    /**
     * Whether the unpacked path is faster: tiny products, a single row, for {@code nn}/{@code tn} a single k (an
     * outer product), for {@code nt} (whose packing transposes both operands) very few columns or a still small
     * product.
     */
    private static boolean useSimple(int kind, int m, int n, int k, long macs) {
        if (macs < PACK_MIN_MACS || m < 2) {
            return true;
        }
        return kind == NT ? n < 8 || macs < 4 * PACK_MIN_MACS : k < 2;
    }

    /** Whether {@code nt} of this shape takes the dot-product path (other rounding than the FMA chains). */
    static boolean ntUsesDotProducts(int m, int n, int k) {
        return useSimple(NT, m, n, k, (long) m * n * k);
    }

    /** The packed algorithm on the block C[m0:m1, n0:n1], with this thread's buffers. */
    private static void blocked(int kind, int m0, int m1, int n0, int n1, int k,
                                float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                float[] c, int cOff, int ldc, boolean accumulate) {
        Workspace ws = WORKSPACE.get();
        // Packing B (K×N, row-major in nn/tn) costs more than a product with a few rows: then B is read in place.
        boolean directB = kind != NT && m1 - m0 <= DIRECT_B_MAX_M;
        boolean wholeB = !directB && k > KC && (long) (m1 - m0) * (n1 - n0) > C_IN_CACHE_MAX_FLOATS
                && (long) k * (Math.min(NC, n1 - n0) + NRW) <= FULL_B_MAX_FLOATS;
        for (int jc = n0; jc < n1; jc += NC) {
            int nc = Math.min(NC, n1 - jc);
            // Packed B panels are wide (NRW) where A is packed too (the wide kernel needs both); else NR.
            int w = directA(kind, nc) ? NR : NRW;
            int kb = w == NRW ? KC_WIDE : KC;
            if (wholeB) {
                // B's column block packed once, K-block after K-block (each kc × the panels' padded width); then C
                // row block by row block, each through all of K (the same FMA chains in the same order of p: only
                // the loop order differs).
                int width = (nc + w - 1) / w * w;
                if (ws.bFull.length < k * width) {
                    ws.bFull = new float[k * width];
                }
                for (int pc = 0; pc < k; pc += kb) {
                    packB(kind, b, bOff, ldb, jc, nc, pc, Math.min(kb, k - pc), ws.bFull, pc * width, w);
                }
                for (int ic = m0; ic < m1; ic += MC) {
                    for (int pc = 0; pc < k; pc += kb) {
                        Operand bOp = ws.bPacked.set(ws.bFull, pc * width, Math.min(kb, k - pc), w, false);
                        rowBlock(kind, ic, Math.min(MC, m1 - ic), jc, nc, pc, Math.min(kb, k - pc),
                                a, aOff, lda, bOp, c, cOff, ldc, accumulate || pc > 0, ws);
                    }
                }
                continue;
            }
            for (int pc = 0; pc < k; pc += kb) {
                int kc = Math.min(kb, k - pc);
                Operand bOp;
                if (directB) {
                    bOp = ws.bIn.set(b, bOff + pc * ldb + jc, 1, ldb, true);
                } else {
                    packB(kind, b, bOff, ldb, jc, nc, pc, kc, ws.b, 0, w);
                    bOp = ws.bPacked.set(ws.b, 0, kc, w, false);
                }
                for (int ic = m0; ic < m1; ic += MC) {
                    // Past the first K-block the running sums are in C: the kernel continues their FMA chains.
                    rowBlock(kind, ic, Math.min(MC, m1 - ic), jc, nc, pc, kc, a, aOff, lda, bOp, c, cOff, ldc,
                            accumulate || pc > 0, ws);
                }
            }
        }
    }

    /** Packs K-block {@code pc} of B's column block {@code jc} into w-column panels of {@code bp} at {@code bpOff}. */
    private static void packB(int kind, float[] b, int bOff, int ldb, int jc, int nc, int pc, int kc,
                              float[] bp, int bpOff, int w) {
        if (kind == NT) {
            packBT(b, bOff, ldb, jc, nc, pc, kc, bp, bpOff, w);
        } else {
            packBN(b, bOff, ldb, jc, nc, pc, kc, bp, bpOff, w);
        }
    }

    /**
     * Whether a block of C {@code nc} columns wide reads A in place: packing A costs about as much as a product with
     * one column panel (attention's P·V, dV). Row-major A (nt, nn) read in place makes a slower kernel (MR row
     * streams), so only then; A of tn (MR consecutive floats per k) reads as well as packed, so up to a few panels.
     */
    private static boolean directA(int kind, int nc) {
        return kind == TN ? nc <= TN_DIRECT_MAX_N : nc <= ROWS_DIRECT_MAX_N;
    }

    /** C[ic:ic+mc, jc:jc+nc] (+)= A[ic:ic+mc, pc:pc+kc] · B-block {@code bOp}: A packed or read in place. */
    private static void rowBlock(int kind, int ic, int mc, int jc, int nc, int pc, int kc,
                                 float[] a, int aOff, int lda, Operand bOp, float[] c, int cOff, int ldc,
                                 boolean load, Workspace ws) {
        boolean directA = directA(kind, nc);
        Operand aOp;
        if (directA && kind == TN) {
            // A(i, p) = a[aOff + p·lda + i]: panels of MR consecutive columns, stepping lda per k.
            aOp = ws.aIn.set(a, aOff + pc * lda + ic, 1, lda, true);
            aOp.rows = false;
        } else if (directA) {
            // A(i, p) = a[aOff + i·lda + p]: MR rows read in place.
            aOp = ws.aIn.set(a, aOff + ic * lda + pc, lda, lda, true);
            aOp.rows = true;
        } else {
            if (kind == TN) {
                packAT(a, aOff, lda, ic, mc, pc, kc, ws.a);
            } else {
                packAN(a, aOff, lda, ic, mc, pc, kc, ws.a);
            }
            aOp = ws.aPacked.set(ws.a, 0, kc, MR, false);
            aOp.rows = false;
        }
        macro(kc, mc, nc, aOp, bOp, c, cOff + ic * ldc + jc, ldc, load, ws);
    }

    /**
     * Where one operand of {@link #macro} lies. A: row panel {@code ir} starts at {@code arr[base + ir·panelStep]}
     * and A(r, p) lies {@code p·step + r} further ({@code rows}: {@code r·step + p}). B: column panel {@code jr}
     * (NR columns wide in place, {@code step} columns packed)
     * starts at {@code arr[base + jr·panelStep]} and B(p, j) lies {@code p·step + j} further. {@code inPlace}
     * marks the caller's matrix, whose last partial panel must not be over-read.
     */
    static final class Operand {
        float[] arr;
        int base;
        int panelStep;
        int step;
        boolean inPlace;
        boolean rows;

        Operand set(float[] arr, int base, int panelStep, int step, boolean inPlace) {
            this.arr = arr;
            this.base = base;
            this.panelStep = panelStep;
            this.step = step;
            this.inPlace = inPlace;
            return this;
        }
    }

    /** Runs the micro-kernel over all tiles of one mc × nc block of C. */
    private static void macro(int kc, int mc, int nc, Operand aOp, Operand bOp, float[] c, int cBase, int ldc,
                              boolean load, Workspace ws) {
        float[] tile = ws.tile;
        int width = bOp.inPlace ? NR : bOp.step;
        for (int jr = 0; jr < nc; jr += width) {
            int nr = Math.min(width, nc - jr);
            float[] pb = bOp.arr;
            int bo = bOp.base + jr * bOp.panelStep;
            int bs = bOp.step;
            if (bOp.inPlace && nr != NR && nr != VL) {
                // Last columns of an in-place B: pack them, zero-padded, so nothing past the matrix is read.
                for (int p = 0, s = bo, d = 0; p < kc; p++, s += bs, d += NR) {
                    System.arraycopy(pb, s, ws.bEdge, d, nr);
                    Arrays.fill(ws.bEdge, d + nr, d + NR, 0f);
                }
                pb = ws.bEdge;
                bo = 0;
                bs = NR;
            }
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int co = cBase + ir * ldc + jr;
                float[] pa = aOp.arr;
                int ao = aOp.base + ir * aOp.panelStep;
                int as = aOp.step;
                boolean rows = aOp.rows;
                if (mr < MR && aOp.inPlace) {
                    // Last rows of an in-place A: pack them, zero-padded, so nothing past the matrix is read.
                    if (rows) {
                        transposeEdge(pa, ao, as, mr, kc, ws.aEdge, 0, MR);
                    } else {
                        for (int p = 0, s = ao, d = 0; p < kc; p++, s += as, d += MR) {
                            System.arraycopy(pa, s, ws.aEdge, d, mr);
                            Arrays.fill(ws.aEdge, d + mr, d + MR, 0f);
                        }
                    }
                    pa = ws.aEdge;
                    ao = 0;
                    as = MR;
                    rows = false;
                }
                if (mr == MR && nr == NRW) {
                    kernelPP3(kc, pa, ao, pb, bo, c, co, ldc, load);
                } else if (mr == MR && nr == NR && width == NRW) {
                    kernelPW2(kc, pa, ao, pb, bo, c, co, ldc, load);
                } else if (mr == MR && nr == VL && width == NRW) {
                    kernelPW1(kc, pa, ao, pb, bo, c, co, ldc, load);
                } else if (mr == MR && nr == NR && !rows && as == MR && bs == NR) {
                    kernelPP2(kc, pa, ao, pb, bo, c, co, ldc, load);
                } else if (mr == MR && nr == NR && rows && bs == NR) {
                    kernelRP2(kc, pa, ao, as, pb, bo, c, co, ldc, load);
                } else if (mr == MR && nr == NR) {
                    kernel(rows, true, kc, pa, ao, as, pb, bo, bs, c, co, ldc, load);
                } else if (mr == MR && nr == VL) {
                    kernel(rows, false, kc, pa, ao, as, pb, bo, bs, c, co, ldc, load);
                } else {
                    // Partial tile: run the full kernel on a scratch tile, copy the valid part back.
                    if (load) {
                        for (int r = 0; r < mr; r++) {
                            System.arraycopy(c, co + r * ldc, tile, r * NRW, nr);
                        }
                    }
                    if (nr > NR) {
                        kernelPP3(kc, pa, ao, pb, bo, tile, 0, NRW, load);
                    } else {
                        kernel(rows, nr > VL, kc, pa, ao, as, pb, bo, bs, tile, 0, NRW, load);
                    }
                    for (int r = 0; r < mr; r++) {
                        System.arraycopy(tile, r * NRW, c, co + r * ldc, nr);
                    }
                }
            }
        }
    }

    /** Dispatches to the micro-kernel for A's layout ({@code rows}: row-major in place) and tile width. */
    private static void kernel(boolean rows, boolean twoVectors, int kc, float[] ap, int ao, int as,
                               float[] bp, int bo, int bs, float[] c, int co, int ldc, boolean load) {
        if (rows) {
            if (twoVectors) {
                kernelR2(kc, ap, ao, as, bp, bo, bs, c, co, ldc, load);
            } else {
                kernelR1(kc, ap, ao, as, bp, bo, bs, c, co, ldc, load);
            }
        } else if (twoVectors) {
            kernelP2(kc, ap, ao, as, bp, bo, bs, c, co, ldc, load);
        } else {
            kernelP1(kc, ap, ao, as, bp, bo, bs, c, co, ldc, load);
        }
    }

    // ---- packing: A into MR-row panels (ap[panel·MR·kc + p·MR + r]), B into w-column panels, w = NR or NRW
    // (bp[panel·w·kc + p·w + j]); rows/columns past the edge are zero.

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
            if (mr == MR) {
                // Eight floats per k, unrolled: a System.arraycopy call per 8 floats costs more than the copy.
                for (int p = 0; p < kc; p++, s += lda, d += MR) {
                    ap[d] = a[s]; ap[d + 1] = a[s + 1]; ap[d + 2] = a[s + 2]; ap[d + 3] = a[s + 3];
                    ap[d + 4] = a[s + 4]; ap[d + 5] = a[s + 5]; ap[d + 6] = a[s + 6]; ap[d + 7] = a[s + 7];
                }
                continue;
            }
            for (int p = 0; p < kc; p++, s += lda, d += MR) {
                System.arraycopy(a, s, ap, d, mr);
                Arrays.fill(ap, d + mr, d + MR, 0f);
            }
        }
    }

    /** B is K×N row-major ({@code nn}, {@code tn}). */
    private static void packBN(float[] b, int bOff, int ldb, int j0, int nc, int pc, int kc, float[] bp,
                               int bpOff, int w) {
        for (int jr = 0; jr < nc; jr += w) {
            int nr = Math.min(w, nc - jr);
            int d = bpOff + jr * kc;
            int s = bOff + pc * ldb + j0 + jr;
            for (int p = 0; p < kc; p++, s += ldb, d += w) {
                System.arraycopy(b, s, bp, d, nr);
                if (nr < w) {
                    Arrays.fill(bp, d + nr, d + w, 0f);
                }
            }
        }
    }

    /** B is N×K row-major ({@code nt}). */
    private static void packBT(float[] b, int bOff, int ldb, int j0, int nc, int pc, int kc, float[] bp,
                               int bpOff, int w) {
        for (int jr = 0; jr < nc; jr += w) {
            int nr = Math.min(w, nc - jr);
            int d = bpOff + jr * kc;
            int s = bOff + (j0 + jr) * ldb + pc;
            int j = 0;
            for (; j + 8 <= nr; j += 8) {
                transpose8(b, s + j * ldb, ldb, kc, bp, d + j, w);
            }
            for (; j < w; j += 8) {
                transposeEdge(b, s + j * ldb, ldb, Math.max(0, nr - j), kc, bp, d + j, w);
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
     * C[8, 2VL] (+)= A · B over {@code kc} steps, A(r, p) = ap[ao + p·as + r], B(p, j) = bp[bo + p·bs + j]: one
     * FMA chain per element, in order of p, starting from C ({@code load}) or zero.
     */
    static void kernelP2(int kc, float[] ap, int ao, int as, float[] bp, int bo, int bs, float[] c,
                         int co, int ldc, boolean load) {
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
            bo += bs;
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
     * {@link #kernelP2} on packed A and B (A(r, p) = ap[ao + p·MR + r], B(p, j) = bp[bo + p·NR + j]): with the
     * strides constants, every index is affine in p, so C2 checks the array bounds once before the loop instead of
     * at every load (about a third fewer instructions per FMA; the same FMAs in the same order).
     */
    static void kernelPP2(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc, boolean load) {
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
            FloatVector b0 = FloatVector.fromArray(S, bp, bo + p * NR);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + p * NR + VL);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ao + p * MR + 0]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 6]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 7]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
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
     * {@link #kernelPP2} for the wide tile C[8, 3VL] ({@link #NRW}): A(r, p) = ap[ao + p·MR + r], B(p, j) =
     * bp[bo + p·NRW + j]; one FMA chain per element, in order of p, from C ({@code load}) or zero.
     */
    static void kernelPP3(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc, boolean load) {
        // Without 'load' the accumulators start from a zero row (no vector phi before the hot loop).
        float[] src = load ? c : ZERO_ROW;
        int so = load ? co : 0;
        int sld = load ? ldc : 0;
        FloatVector c0_0 = FloatVector.fromArray(S, src, so);
        FloatVector c0_1 = FloatVector.fromArray(S, src, so + VL);
        FloatVector c0_2 = FloatVector.fromArray(S, src, so + 2 * VL);
        FloatVector c1_0 = FloatVector.fromArray(S, src, so + 1 * sld);
        FloatVector c1_1 = FloatVector.fromArray(S, src, so + 1 * sld + VL);
        FloatVector c1_2 = FloatVector.fromArray(S, src, so + 1 * sld + 2 * VL);
        FloatVector c2_0 = FloatVector.fromArray(S, src, so + 2 * sld);
        FloatVector c2_1 = FloatVector.fromArray(S, src, so + 2 * sld + VL);
        FloatVector c2_2 = FloatVector.fromArray(S, src, so + 2 * sld + 2 * VL);
        FloatVector c3_0 = FloatVector.fromArray(S, src, so + 3 * sld);
        FloatVector c3_1 = FloatVector.fromArray(S, src, so + 3 * sld + VL);
        FloatVector c3_2 = FloatVector.fromArray(S, src, so + 3 * sld + 2 * VL);
        FloatVector c4_0 = FloatVector.fromArray(S, src, so + 4 * sld);
        FloatVector c4_1 = FloatVector.fromArray(S, src, so + 4 * sld + VL);
        FloatVector c4_2 = FloatVector.fromArray(S, src, so + 4 * sld + 2 * VL);
        FloatVector c5_0 = FloatVector.fromArray(S, src, so + 5 * sld);
        FloatVector c5_1 = FloatVector.fromArray(S, src, so + 5 * sld + VL);
        FloatVector c5_2 = FloatVector.fromArray(S, src, so + 5 * sld + 2 * VL);
        FloatVector c6_0 = FloatVector.fromArray(S, src, so + 6 * sld);
        FloatVector c6_1 = FloatVector.fromArray(S, src, so + 6 * sld + VL);
        FloatVector c6_2 = FloatVector.fromArray(S, src, so + 6 * sld + 2 * VL);
        FloatVector c7_0 = FloatVector.fromArray(S, src, so + 7 * sld);
        FloatVector c7_1 = FloatVector.fromArray(S, src, so + 7 * sld + VL);
        FloatVector c7_2 = FloatVector.fromArray(S, src, so + 7 * sld + 2 * VL);
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo + p * NRW);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + p * NRW + VL);
            FloatVector b2 = FloatVector.fromArray(S, bp, bo + p * NRW + 2 * VL);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ao + p * MR + 0]);
            c0_0 = x.fma(b0, c0_0); c0_1 = x.fma(b1, c0_1); c0_2 = x.fma(b2, c0_2);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 1]);
            c1_0 = x.fma(b0, c1_0); c1_1 = x.fma(b1, c1_1); c1_2 = x.fma(b2, c1_2);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 2]);
            c2_0 = x.fma(b0, c2_0); c2_1 = x.fma(b1, c2_1); c2_2 = x.fma(b2, c2_2);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 3]);
            c3_0 = x.fma(b0, c3_0); c3_1 = x.fma(b1, c3_1); c3_2 = x.fma(b2, c3_2);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 4]);
            c4_0 = x.fma(b0, c4_0); c4_1 = x.fma(b1, c4_1); c4_2 = x.fma(b2, c4_2);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 5]);
            c5_0 = x.fma(b0, c5_0); c5_1 = x.fma(b1, c5_1); c5_2 = x.fma(b2, c5_2);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 6]);
            c6_0 = x.fma(b0, c6_0); c6_1 = x.fma(b1, c6_1); c6_2 = x.fma(b2, c6_2);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 7]);
            c7_0 = x.fma(b0, c7_0); c7_1 = x.fma(b1, c7_1); c7_2 = x.fma(b2, c7_2);
        }
        // Store through an exactly-typed receiver (see kernelP2).
        FloatVector one = FloatVector.broadcast(S, 1f);
        one.mul(c0_0).intoArray(c, co);
        one.mul(c0_1).intoArray(c, co + VL);
        one.mul(c0_2).intoArray(c, co + 2 * VL);
        one.mul(c1_0).intoArray(c, co + 1 * ldc);
        one.mul(c1_1).intoArray(c, co + 1 * ldc + VL);
        one.mul(c1_2).intoArray(c, co + 1 * ldc + 2 * VL);
        one.mul(c2_0).intoArray(c, co + 2 * ldc);
        one.mul(c2_1).intoArray(c, co + 2 * ldc + VL);
        one.mul(c2_2).intoArray(c, co + 2 * ldc + 2 * VL);
        one.mul(c3_0).intoArray(c, co + 3 * ldc);
        one.mul(c3_1).intoArray(c, co + 3 * ldc + VL);
        one.mul(c3_2).intoArray(c, co + 3 * ldc + 2 * VL);
        one.mul(c4_0).intoArray(c, co + 4 * ldc);
        one.mul(c4_1).intoArray(c, co + 4 * ldc + VL);
        one.mul(c4_2).intoArray(c, co + 4 * ldc + 2 * VL);
        one.mul(c5_0).intoArray(c, co + 5 * ldc);
        one.mul(c5_1).intoArray(c, co + 5 * ldc + VL);
        one.mul(c5_2).intoArray(c, co + 5 * ldc + 2 * VL);
        one.mul(c6_0).intoArray(c, co + 6 * ldc);
        one.mul(c6_1).intoArray(c, co + 6 * ldc + VL);
        one.mul(c6_2).intoArray(c, co + 6 * ldc + 2 * VL);
        one.mul(c7_0).intoArray(c, co + 7 * ldc);
        one.mul(c7_1).intoArray(c, co + 7 * ldc + VL);
        one.mul(c7_2).intoArray(c, co + 7 * ldc + 2 * VL);
    }

    /**
     * {@link #kernelPP2} on the first two vectors of a wide B panel (B(p, j) = bp[bo + p·NRW + j]): the last
     * columns of C where they are 2VL wide.
     */
    static void kernelPW2(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc, boolean load) {
        // Without 'load' the accumulators start from a zero row (no vector phi before the hot loop).
        float[] src = load ? c : ZERO_ROW;
        int so = load ? co : 0;
        int sld = load ? ldc : 0;
        FloatVector c0_0 = FloatVector.fromArray(S, src, so);
        FloatVector c0_1 = FloatVector.fromArray(S, src, so + VL);
        FloatVector c1_0 = FloatVector.fromArray(S, src, so + 1 * sld);
        FloatVector c1_1 = FloatVector.fromArray(S, src, so + 1 * sld + VL);
        FloatVector c2_0 = FloatVector.fromArray(S, src, so + 2 * sld);
        FloatVector c2_1 = FloatVector.fromArray(S, src, so + 2 * sld + VL);
        FloatVector c3_0 = FloatVector.fromArray(S, src, so + 3 * sld);
        FloatVector c3_1 = FloatVector.fromArray(S, src, so + 3 * sld + VL);
        FloatVector c4_0 = FloatVector.fromArray(S, src, so + 4 * sld);
        FloatVector c4_1 = FloatVector.fromArray(S, src, so + 4 * sld + VL);
        FloatVector c5_0 = FloatVector.fromArray(S, src, so + 5 * sld);
        FloatVector c5_1 = FloatVector.fromArray(S, src, so + 5 * sld + VL);
        FloatVector c6_0 = FloatVector.fromArray(S, src, so + 6 * sld);
        FloatVector c6_1 = FloatVector.fromArray(S, src, so + 6 * sld + VL);
        FloatVector c7_0 = FloatVector.fromArray(S, src, so + 7 * sld);
        FloatVector c7_1 = FloatVector.fromArray(S, src, so + 7 * sld + VL);
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo + p * NRW);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + p * NRW + VL);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ao + p * MR + 0]);
            c0_0 = x.fma(b0, c0_0); c0_1 = x.fma(b1, c0_1);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 1]);
            c1_0 = x.fma(b0, c1_0); c1_1 = x.fma(b1, c1_1);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 2]);
            c2_0 = x.fma(b0, c2_0); c2_1 = x.fma(b1, c2_1);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 3]);
            c3_0 = x.fma(b0, c3_0); c3_1 = x.fma(b1, c3_1);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 4]);
            c4_0 = x.fma(b0, c4_0); c4_1 = x.fma(b1, c4_1);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 5]);
            c5_0 = x.fma(b0, c5_0); c5_1 = x.fma(b1, c5_1);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 6]);
            c6_0 = x.fma(b0, c6_0); c6_1 = x.fma(b1, c6_1);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 7]);
            c7_0 = x.fma(b0, c7_0); c7_1 = x.fma(b1, c7_1);
        }
        // Store through an exactly-typed receiver (see kernelP2).
        FloatVector one = FloatVector.broadcast(S, 1f);
        one.mul(c0_0).intoArray(c, co);
        one.mul(c0_1).intoArray(c, co + VL);
        one.mul(c1_0).intoArray(c, co + 1 * ldc);
        one.mul(c1_1).intoArray(c, co + 1 * ldc + VL);
        one.mul(c2_0).intoArray(c, co + 2 * ldc);
        one.mul(c2_1).intoArray(c, co + 2 * ldc + VL);
        one.mul(c3_0).intoArray(c, co + 3 * ldc);
        one.mul(c3_1).intoArray(c, co + 3 * ldc + VL);
        one.mul(c4_0).intoArray(c, co + 4 * ldc);
        one.mul(c4_1).intoArray(c, co + 4 * ldc + VL);
        one.mul(c5_0).intoArray(c, co + 5 * ldc);
        one.mul(c5_1).intoArray(c, co + 5 * ldc + VL);
        one.mul(c6_0).intoArray(c, co + 6 * ldc);
        one.mul(c6_1).intoArray(c, co + 6 * ldc + VL);
        one.mul(c7_0).intoArray(c, co + 7 * ldc);
        one.mul(c7_1).intoArray(c, co + 7 * ldc + VL);
    }

    /**
     * {@link #kernelPW2} for C[8, VL].
     */
    static void kernelPW1(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc, boolean load) {
        // Without 'load' the accumulators start from a zero row (no vector phi before the hot loop).
        float[] src = load ? c : ZERO_ROW;
        int so = load ? co : 0;
        int sld = load ? ldc : 0;
        FloatVector c0_0 = FloatVector.fromArray(S, src, so);
        FloatVector c1_0 = FloatVector.fromArray(S, src, so + 1 * sld);
        FloatVector c2_0 = FloatVector.fromArray(S, src, so + 2 * sld);
        FloatVector c3_0 = FloatVector.fromArray(S, src, so + 3 * sld);
        FloatVector c4_0 = FloatVector.fromArray(S, src, so + 4 * sld);
        FloatVector c5_0 = FloatVector.fromArray(S, src, so + 5 * sld);
        FloatVector c6_0 = FloatVector.fromArray(S, src, so + 6 * sld);
        FloatVector c7_0 = FloatVector.fromArray(S, src, so + 7 * sld);
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo + p * NRW);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ao + p * MR + 0]);
            c0_0 = x.fma(b0, c0_0);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 1]);
            c1_0 = x.fma(b0, c1_0);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 2]);
            c2_0 = x.fma(b0, c2_0);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 3]);
            c3_0 = x.fma(b0, c3_0);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 4]);
            c4_0 = x.fma(b0, c4_0);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 5]);
            c5_0 = x.fma(b0, c5_0);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 6]);
            c6_0 = x.fma(b0, c6_0);
            x = FloatVector.broadcast(S, ap[ao + p * MR + 7]);
            c7_0 = x.fma(b0, c7_0);
        }
        // Store through an exactly-typed receiver (see kernelP2).
        FloatVector one = FloatVector.broadcast(S, 1f);
        one.mul(c0_0).intoArray(c, co);
        one.mul(c1_0).intoArray(c, co + 1 * ldc);
        one.mul(c2_0).intoArray(c, co + 2 * ldc);
        one.mul(c3_0).intoArray(c, co + 3 * ldc);
        one.mul(c4_0).intoArray(c, co + 4 * ldc);
        one.mul(c5_0).intoArray(c, co + 5 * ldc);
        one.mul(c6_0).intoArray(c, co + 6 * ldc);
        one.mul(c7_0).intoArray(c, co + 7 * ldc);
    }

    /**
     * As {@link #kernelP2} for C[8, VL] (the first VL columns of the B panel).
     */
    static void kernelP1(int kc, float[] ap, int ao, int as, float[] bp, int bo, int bs, float[] c,
                         int co, int ldc, boolean load) {
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
            bo += bs;
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
    static void kernelR2(int kc, float[] ap, int ao, int as, float[] bp, int bo, int bs, float[] c,
                         int co, int ldc, boolean load) {
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
            bo += bs;
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
     * {@link #kernelR2} on a packed B (B(p, j) = bp[bo + p·NR + j]): every index affine in p with a constant stride,
     * so the bounds checks leave the loop (see {@link #kernelPP2}).
     */
    static void kernelRP2(int kc, float[] ap, int ao, int as, float[] bp, int bo, float[] c, int co, int ldc,
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
            FloatVector b0 = FloatVector.fromArray(S, bp, bo + p * NR);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + p * NR + VL);
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
    static void kernelR1(int kc, float[] ap, int ao, int as, float[] bp, int bo, int bs, float[] c,
                         int co, int ldc, boolean load) {
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
            bo += bs;
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

    /**
     * Dot products along K: four vector accumulators over blocks of 4·VL, then one over the remaining whole
     * vectors, summed in a fixed order, then a scalar tail; the order depends on K only.
     */
    private static void simpleNt(int lo, int hi, int n, int k,
                                 float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                 float[] c, int cOff, int ldc, boolean accumulate) {
        int upper4 = k - k % (4 * VL);
        int upper = S.loopBound(k);
        for (int i = lo; i < hi; i++) {
            int ai = aOff + i * lda;
            int ci = cOff + i * ldc;
            for (int j = 0; j < n; j++) {
                int bj = bOff + j * ldb;
                float s = 0f;
                int p = 0;
                if (upper > 0) {
                    FloatVector acc0 = FloatVector.zero(S);
                    FloatVector acc1 = FloatVector.zero(S);
                    FloatVector acc2 = FloatVector.zero(S);
                    FloatVector acc3 = FloatVector.zero(S);
                    for (; p < upper4; p += 4 * VL) {
                        acc0 = FloatVector.fromArray(S, a, ai + p).fma(FloatVector.fromArray(S, b, bj + p), acc0);
                        acc1 = FloatVector.fromArray(S, a, ai + p + VL)
                                .fma(FloatVector.fromArray(S, b, bj + p + VL), acc1);
                        acc2 = FloatVector.fromArray(S, a, ai + p + 2 * VL)
                                .fma(FloatVector.fromArray(S, b, bj + p + 2 * VL), acc2);
                        acc3 = FloatVector.fromArray(S, a, ai + p + 3 * VL)
                                .fma(FloatVector.fromArray(S, b, bj + p + 3 * VL), acc3);
                    }
                    for (; p < upper; p += VL) {
                        acc0 = FloatVector.fromArray(S, a, ai + p).fma(FloatVector.fromArray(S, b, bj + p), acc0);
                    }
                    // Methods are called on exactly-typed results only (see kernelP2).
                    FloatVector one = FloatVector.broadcast(S, 1f);
                    s = one.mul(acc0).add(acc1).add(one.mul(acc2).add(acc3)).reduceLanes(VectorOperators.ADD);
                }
                for (; p < k; p++) {
                    s = Math.fma(a[ai + p], b[bj + p], s);
                }
                c[ci + j] = accumulate ? c[ci + j] + s : s;
            }
        }
    }

    /**
     * C rows [lo, hi) as FMA chains over p in order, from the old C or zero: identical per element to the
     * packed kernels. Strips of 4 vectors (then single vectors, then single columns) keep their running sums
     * in registers over all of K.
     */
    private static void simpleNn(int lo, int hi, int n, int k,
                                 float[] a, int aOff, int aRow, int aCol, float[] b, int bOff, int ldb,
                                 float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = lo; i < hi; i++) {
            int ci = cOff + i * ldc;
            int ai = aOff + i * aRow;
            int j = 0;
            for (; j + 4 * VL <= n; j += 4 * VL) {
                float[] src = accumulate ? c : ZERO_ROW;
                int so = accumulate ? ci + j : 0;
                FloatVector c0 = FloatVector.fromArray(S, src, so);
                FloatVector c1 = FloatVector.fromArray(S, src, so + VL);
                FloatVector c2 = FloatVector.fromArray(S, src, so + 2 * VL);
                FloatVector c3 = FloatVector.fromArray(S, src, so + 3 * VL);
                for (int p = 0, q = ai, bp = bOff + j; p < k; p++, q += aCol, bp += ldb) {
                    FloatVector x = FloatVector.broadcast(S, a[q]);
                    c0 = x.fma(FloatVector.fromArray(S, b, bp), c0);
                    c1 = x.fma(FloatVector.fromArray(S, b, bp + VL), c1);
                    c2 = x.fma(FloatVector.fromArray(S, b, bp + 2 * VL), c2);
                    c3 = x.fma(FloatVector.fromArray(S, b, bp + 3 * VL), c3);
                }
                FloatVector one = FloatVector.broadcast(S, 1f);
                one.mul(c0).intoArray(c, ci + j);
                one.mul(c1).intoArray(c, ci + j + VL);
                one.mul(c2).intoArray(c, ci + j + 2 * VL);
                one.mul(c3).intoArray(c, ci + j + 3 * VL);
            }
            if (j == n) {
                continue;
            }
            // The last columns: the running sums stay in C, updated once per p (chains of all columns interleave).
            if (!accumulate) {
                Arrays.fill(c, ci + j, ci + n, 0f);
            }
            int upper = j + S.loopBound(n - j);
            for (int p = 0, q = ai, bp = bOff; p < k; p++, q += aCol, bp += ldb) {
                float av = a[q];
                FloatVector x = FloatVector.broadcast(S, av);
                int jj = j;
                for (; jj < upper; jj += VL) {
                    x.fma(FloatVector.fromArray(S, b, bp + jj), FloatVector.fromArray(S, c, ci + jj))
                            .intoArray(c, ci + jj);
                }
                for (; jj < n; jj++) {
                    c[ci + jj] = Math.fma(av, b[bp + jj], c[ci + jj]);
                }
            }
        }
    }
}
