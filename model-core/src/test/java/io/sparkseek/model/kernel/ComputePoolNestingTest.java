package io.sparkseek.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A kernel called with the pool from inside the pool's own work must not deadlock (it runs inline there). */
class ComputePoolNestingTest {

    @Test
    void gemmInsideForEachDynamicCompletes() {
        int m = 300;
        int n = 200;
        int k = 150;
        Random rnd = new Random(1);
        float[] a = new float[m * k];
        float[] b = new float[n * k];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) rnd.nextGaussian();
        }
        float[] want = new float[m * n];
        try (ComputePool serial = ComputePool.serial()) {
            CpuGemm.nt(serial, m, n, k, a, 0, k, b, 0, k, want, 0, n, false);
        }
        float[][] got = new float[5][m * n];
        try (ComputePool pool = new ComputePool(2)) {
            assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
                    pool.forEachDynamic(got.length, e ->
                            CpuGemm.nt(pool, m, n, k, a, 0, k, b, 0, k, got[e], 0, n, false)));
            // and nested parallelFor directly
            float[][] got2 = new float[2][m * n];
            assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
                    pool.parallelFor(2, 1, (lo, hi) -> {
                        for (int e = lo; e < hi; e++) {
                            CpuGemm.nn(pool, m, k, n, want, 0, n, b, 0, k, got2[e], 0, k, false);
                        }
                    }));
            assertThat(got2[1]).containsExactly(got2[0]);
        }
        for (float[] g : got) {
            assertThat(g).containsExactly(want);
        }
    }
}
