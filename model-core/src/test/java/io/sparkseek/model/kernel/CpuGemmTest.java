package io.sparkseek.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link CpuGemm} against a plain triple loop in double precision, over odd sizes, offsets, leading dimensions
 * and both accumulate modes; plus bit-identity across thread counts.
 */
class CpuGemmTest {

    enum Kind { NT, NN, TN }

    private static final int[] SIZES = {1, 3, 7, 17, 64, 65, 129, 300};

    private static ComputePool serial;
    private static ComputePool two;
    private static ComputePool three;

    @BeforeAll
    static void pools() {
        serial = ComputePool.serial();
        two = new ComputePool(2);
        three = new ComputePool(3);
    }

    @AfterAll
    static void closePools() {
        serial.close();
        two.close();
        three.close();
    }

    /** One problem: operands laid out with offsets and leading dimensions inside larger arrays. */
    static final class Case {
        final Kind kind;
        final int m;
        final int n;
        final int k;
        final int aOff;
        final int lda;
        final int bOff;
        final int ldb;
        final int cOff;
        final int ldc;
        final float[] a;
        final float[] b;
        final float[] c;

        Case(Kind kind, int m, int n, int k, Random rnd, boolean padded) {
            this.kind = kind;
            this.m = m;
            this.n = n;
            this.k = k;
            int aRows = kind == Kind.TN ? k : m;
            int aCols = kind == Kind.TN ? m : k;
            int bRows = kind == Kind.NT ? n : k;
            int bCols = kind == Kind.NT ? k : n;
            aOff = padded ? rnd.nextInt(11) : 0;
            lda = aCols + (padded ? rnd.nextInt(6) : 0);
            bOff = padded ? rnd.nextInt(11) : 0;
            ldb = bCols + (padded ? rnd.nextInt(6) : 0);
            cOff = padded ? rnd.nextInt(11) : 0;
            ldc = n + (padded ? rnd.nextInt(6) : 0);
            a = random(rnd, aOff + (aRows - 1) * lda + aCols + (padded ? rnd.nextInt(4) : 0));
            b = random(rnd, bOff + (bRows - 1) * ldb + bCols + (padded ? rnd.nextInt(4) : 0));
            c = random(rnd, cOff + (m - 1) * ldc + n + (padded ? rnd.nextInt(4) : 0));
        }

        float a(int i, int p) {
            return kind == Kind.TN ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        }

        float b(int p, int j) {
            return kind == Kind.NT ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        }

        int ci(int i, int j) {
            return cOff + i * ldc + j;
        }

        boolean inC(int idx) {
            int rel = idx - cOff;
            return rel >= 0 && rel / ldc < m && rel % ldc < n;
        }

        void run(ComputePool pool, float[] out, boolean accumulate) {
            switch (kind) {
                case NT -> CpuGemm.nt(pool, m, n, k, a, aOff, lda, b, bOff, ldb, out, cOff, ldc, accumulate);
                case NN -> CpuGemm.nn(pool, m, n, k, a, aOff, lda, b, bOff, ldb, out, cOff, ldc, accumulate);
                case TN -> CpuGemm.tn(pool, m, n, k, a, aOff, lda, b, bOff, ldb, out, cOff, ldc, accumulate);
            }
        }

        @Override
        public String toString() {
            return kind + " m=" + m + " n=" + n + " k=" + k + " aOff=" + aOff + " lda=" + lda + " bOff=" + bOff
                    + " ldb=" + ldb + " cOff=" + cOff + " ldc=" + ldc;
        }
    }

    private static float[] random(Random rnd, int len) {
        float[] x = new float[len];
        for (int i = 0; i < len; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    /**
     * Runs {@code cs} on each pool and checks every element of C against double precision, and that nothing
     * outside C moved.
     */
    private static void check(Case cs, boolean accumulate, ComputePool... pools) {
        double[] ref = new double[cs.m * cs.n];
        double[] tol = new double[cs.m * cs.n];
        for (int i = 0; i < cs.m; i++) {
            for (int j = 0; j < cs.n; j++) {
                double sum = accumulate ? cs.c[cs.ci(i, j)] : 0.0;
                double mag = Math.abs(sum);
                for (int p = 0; p < cs.k; p++) {
                    double t = (double) cs.a(i, p) * cs.b(p, j);
                    sum += t;
                    mag += Math.abs(t);
                }
                ref[i * cs.n + j] = sum;
                tol[i * cs.n + j] = 1e-5 * mag + 1e-30;
            }
        }
        for (ComputePool pool : pools) {
            float[] out = cs.c.clone();
            cs.run(pool, out, accumulate);
            for (int i = 0; i < cs.m; i++) {
                for (int j = 0; j < cs.n; j++) {
                    double got = out[cs.ci(i, j)];
                    double want = ref[i * cs.n + j];
                    if (!(Math.abs(got - want) <= tol[i * cs.n + j])) {
                        fail(cs + " acc=" + accumulate + " threads=" + pool.threads() + ": C[" + i + "," + j + "] = "
                                + got + ", want " + want + " ± " + tol[i * cs.n + j]);
                    }
                }
            }
            for (int idx = 0; idx < out.length; idx++) {
                if (!cs.inC(idx) && Float.floatToRawIntBits(out[idx]) != Float.floatToRawIntBits(cs.c[idx])) {
                    fail(cs + " acc=" + accumulate + ": wrote outside C at index " + idx);
                }
            }
        }
    }

    @Test
    void matchesDoubleReferenceOverSizeGrid() {
        Random rnd = new Random(42);
        for (Kind kind : Kind.values()) {
            for (int m : SIZES) {
                for (int n : SIZES) {
                    for (int k : SIZES) {
                        Case cs = new Case(kind, m, n, k, rnd, true);
                        boolean accumulate = rnd.nextBoolean();
                        check(cs, accumulate, serial);
                        check(cs, !accumulate, serial);
                    }
                }
            }
        }
    }

    @Test
    void matchesDoubleReferenceWithThreadsAndTightLayout() {
        Random rnd = new Random(7);
        int[][] shapes = {{300, 129, 65}, {17, 300, 129}, {129, 65, 300}, {2, 1100, 33}, {1100, 9, 40},
            {64, 64, 64}, {256, 80, 256}, {1, 300, 300}, {300, 1, 300}, {300, 300, 1}, {40, 1030, 520}};
        for (Kind kind : Kind.values()) {
            for (int[] s : shapes) {
                for (boolean padded : new boolean[] {false, true}) {
                    Case cs = new Case(kind, s[0], s[1], s[2], rnd, padded);
                    check(cs, false, serial, two, three);
                    check(cs, true, serial, two, three);
                }
            }
        }
    }

    @Test
    void emptyKClearsOrKeepsC() {
        Random rnd = new Random(3);
        for (Kind kind : Kind.values()) {
            Case cs = new Case(kind, 5, 7, 1, rnd, true);
            float[] out = cs.c.clone();
            switch (kind) {
                case NT -> CpuGemm.nt(serial, 5, 7, 0, cs.a, cs.aOff, cs.lda, cs.b, cs.bOff, cs.ldb, out, cs.cOff,
                        cs.ldc, true);
                case NN -> CpuGemm.nn(serial, 5, 7, 0, cs.a, cs.aOff, cs.lda, cs.b, cs.bOff, cs.ldb, out, cs.cOff,
                        cs.ldc, true);
                case TN -> CpuGemm.tn(serial, 5, 7, 0, cs.a, cs.aOff, cs.lda, cs.b, cs.bOff, cs.ldb, out, cs.cOff,
                        cs.ldc, true);
            }
            assertThat(out).containsExactly(cs.c);
            switch (kind) {
                case NT -> CpuGemm.nt(serial, 5, 7, 0, cs.a, cs.aOff, cs.lda, cs.b, cs.bOff, cs.ldb, out, cs.cOff,
                        cs.ldc, false);
                case NN -> CpuGemm.nn(serial, 5, 7, 0, cs.a, cs.aOff, cs.lda, cs.b, cs.bOff, cs.ldb, out, cs.cOff,
                        cs.ldc, false);
                case TN -> CpuGemm.tn(serial, 5, 7, 0, cs.a, cs.aOff, cs.lda, cs.b, cs.bOff, cs.ldb, out, cs.cOff,
                        cs.ldc, false);
            }
            for (int idx = 0; idx < out.length; idx++) {
                assertThat(out[idx]).isEqualTo(cs.inC(idx) ? 0f : cs.c[idx]);
            }
        }
    }

    @Test
    void bitIdenticalAcrossThreadCounts() {
        Random rnd = new Random(11);
        // Row-split and column-split shapes, several K-blocks, N over one column block, edge tiles everywhere.
        int[][] shapes = {{517, 301, 700}, {37, 1500, 300}, {1300, 45, 530}, {96, 96, 96}};
        for (Kind kind : Kind.values()) {
            for (int[] s : shapes) {
                Case cs = new Case(kind, s[0], s[1], s[2], rnd, true);
                for (boolean accumulate : new boolean[] {false, true}) {
                    float[] ref = cs.c.clone();
                    cs.run(serial, ref, accumulate);
                    for (ComputePool pool : new ComputePool[] {two, three}) {
                        float[] out = cs.c.clone();
                        cs.run(pool, out, accumulate);
                        for (int idx = 0; idx < out.length; idx++) {
                            if (Float.floatToRawIntBits(out[idx]) != Float.floatToRawIntBits(ref[idx])) {
                                fail(cs + " acc=" + accumulate + " threads=" + pool.threads()
                                        + ": differs from 1 thread at index " + idx);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Each element is one FMA chain over p in order (from the old C or zero), whatever the blocking: exact for
     * {@code nn}/{@code tn} at every size, and for {@code nt} on the packed path.
     */
    @Test
    void elementsAreInOrderFmaChains() {
        Random rnd = new Random(5);
        // 1100×520×300: a C too large to stay in cache between K-blocks (also per thread of two), so B is packed
        // whole and each row block of C runs through all of K (CpuGemm.C_IN_CACHE_MAX_FLOATS). N of 64, 80, 129 and
        // 520 end the wide (3VL) panels with one vector, two vectors, a partial vector and a partial wide tile.
        int[][] shapes = {{3, 5, 7}, {2, 40, 9}, {1, 300, 70}, {1, 70, 9}, {20, 70, 300}, {65, 129, 300},
            {129, 17, 600}, {300, 65, 17}, {300, 3, 70}, {40, 200, 300}, {70, 64, 300}, {70, 80, 300},
            {1100, 520, 300}};
        for (Kind kind : Kind.values()) {
            for (int[] s : shapes) {
                if (kind == Kind.NT && CpuGemm.ntUsesDotProducts(s[0], s[1], s[2])) {
                    continue;
                }
                Case cs = new Case(kind, s[0], s[1], s[2], rnd, true);
                assertThat((long) s[0] * s[1] / 2 > CpuGemm.C_IN_CACHE_MAX_FLOATS && s[2] > CpuGemm.KC)
                        .isEqualTo(s[0] == 1100);
                for (boolean accumulate : new boolean[] {false, true}) {
                    float[] out = cs.c.clone();
                    cs.run(two, out, accumulate);
                    for (int i = 0; i < cs.m; i++) {
                        for (int j = 0; j < cs.n; j++) {
                            float want = accumulate ? cs.c[cs.ci(i, j)] : 0f;
                            for (int p = 0; p < cs.k; p++) {
                                want = Math.fma(cs.a(i, p), cs.b(p, j), want);
                            }
                            assertThat(out[cs.ci(i, j)]).as("%s acc=%s C[%d,%d]", cs, accumulate, i, j)
                                    .isEqualTo(want);
                        }
                    }
                }
            }
        }
    }
}
