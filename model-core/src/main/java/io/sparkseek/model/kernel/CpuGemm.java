package io.sparkseek.model.kernel;

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
 * Work is split over rows of C only; each element's sum runs in a fixed order, so results are bit-identical
 * for any thread count.
 */
public final class CpuGemm {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Rows of C per task below which splitting does not pay. */
    private static final int MIN_ROWS_PER_TASK = 4;

    private CpuGemm() {
    }

    /** C[M,N] = A[M,K] · B[N,K]ᵀ, plus the old C when {@code accumulate}. */
    public static void nt(ComputePool pool, int m, int n, int k,
                          float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        pool.parallelFor(m, MIN_ROWS_PER_TASK, (lo, hi) -> {
            int upper = S.loopBound(k);
            for (int i = lo; i < hi; i++) {
                int ai = aOff + i * lda;
                int ci = cOff + i * ldc;
                for (int j = 0; j < n; j++) {
                    int bj = bOff + j * ldb;
                    FloatVector acc = FloatVector.zero(S);
                    int p = 0;
                    for (; p < upper; p += S.length()) {
                        acc = FloatVector.fromArray(S, a, ai + p).fma(FloatVector.fromArray(S, b, bj + p), acc);
                    }
                    float s = acc.reduceLanes(VectorOperators.ADD);
                    for (; p < k; p++) {
                        s += a[ai + p] * b[bj + p];
                    }
                    c[ci + j] = accumulate ? c[ci + j] + s : s;
                }
            }
        });
    }

    /** C[M,N] = A[M,K] · B[K,N], plus the old C when {@code accumulate}. */
    public static void nn(ComputePool pool, int m, int n, int k,
                          float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        pool.parallelFor(m, MIN_ROWS_PER_TASK, (lo, hi) -> {
            int upper = S.loopBound(n);
            for (int i = lo; i < hi; i++) {
                int ci = cOff + i * ldc;
                if (!accumulate) {
                    java.util.Arrays.fill(c, ci, ci + n, 0f);
                }
                for (int p = 0; p < k; p++) {
                    float av = a[aOff + i * lda + p];
                    int bp = bOff + p * ldb;
                    FloatVector va = FloatVector.broadcast(S, av);
                    int j = 0;
                    for (; j < upper; j += S.length()) {
                        FloatVector.fromArray(S, b, bp + j).fma(va, FloatVector.fromArray(S, c, ci + j))
                                .intoArray(c, ci + j);
                    }
                    for (; j < n; j++) {
                        c[ci + j] += av * b[bp + j];
                    }
                }
            }
        });
    }

    /** C[M,N] = A[K,M]ᵀ · B[K,N], plus the old C when {@code accumulate}. */
    public static void tn(ComputePool pool, int m, int n, int k,
                          float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        pool.parallelFor(m, MIN_ROWS_PER_TASK, (lo, hi) -> {
            int upper = S.loopBound(n);
            for (int i = lo; i < hi; i++) {
                int ci = cOff + i * ldc;
                if (!accumulate) {
                    java.util.Arrays.fill(c, ci, ci + n, 0f);
                }
                for (int p = 0; p < k; p++) {
                    float av = a[aOff + p * lda + i];
                    int bp = bOff + p * ldb;
                    FloatVector va = FloatVector.broadcast(S, av);
                    int j = 0;
                    for (; j < upper; j += S.length()) {
                        FloatVector.fromArray(S, b, bp + j).fma(va, FloatVector.fromArray(S, c, ci + j))
                                .intoArray(c, ci + j);
                    }
                    for (; j < n; j++) {
                        c[ci + j] += av * b[bp + j];
                    }
                }
            }
        });
    }
}
