package io.sparkseek.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkseek.model.fp8.BlockQuantizer;
import io.sparkseek.model.fp8.Fp8Gemm;
import io.sparkseek.model.fp8.QuantizedMatrix;
import io.sparkseek.model.fp8.TileQuantizer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link JavaFp8Gemm} against the scalar reference {@link Fp8Gemm} (default accumulation): bit for bit on ragged
 * and aligned shapes, for all three training GEMMs, with 1, 2 and 3 threads; prints fprop GFLOP/s at one thread
 * next to {@link CpuGemm#nt} on the same shape.
 */
class JavaFp8GemmTest {

    /** (M, N, K) of fprop; dgrad and wgrad use the same three sizes in their roles. */
    private static final int[][] SHAPES = {{5, 160, 300}, {130, 129, 257}, {256, 256, 512}, {1, 1, 1},
        {300, 40, 131}, {17, 1100, 140}};

    private static float[] gaussian(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double u = 1 - rnd.nextDouble();
            double v = rnd.nextDouble();
            // Row-dependent magnitudes spread the scales over several binades.
            double sigma = Math.pow(2, (i * 7919 % 13) - 6);
            x[i] = (float) (sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
        }
        return x;
    }

    private static void assertSame(float[] got, float[] want, String what) {
        assertThat(got).hasSameSizeAs(want);
        double worst = 0;
        int mismatches = 0;
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(want[i])) {
                mismatches++;
                worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1e-30, Math.abs(want[i])));
            }
        }
        assertThat(mismatches).as(what + ": elements differing from Fp8Gemm (worst rel %.3g)", worst).isZero();
    }

    @Test
    void fpropMatchesReferenceBitForBitOnAnyThreadCount() {
        for (int[] s : SHAPES) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            QuantizedMatrix x = TileQuantizer.quantizeRows(gaussian(m * k, 1 + m), m, k, false);
            QuantizedMatrix w = BlockQuantizer.quantize(gaussian(n * k, 2 + n), n, k, false);
            float[] want = Fp8Gemm.fprop(x, w);
            for (int t = 1; t <= 3; t++) {
                try (ComputePool pool = new ComputePool(t)) {
                    assertSame(JavaFp8Gemm.fprop(pool, x, w), want, "fprop " + m + "x" + n + "x" + k + " t=" + t);
                }
            }
        }
    }

    @Test
    void dgradMatchesReferenceBitForBitOnAnyThreadCount() {
        for (int[] s : SHAPES) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            QuantizedMatrix dy = TileQuantizer.quantizeRows(gaussian(m * n, 3 + m), m, n, false);
            QuantizedMatrix w = BlockQuantizer.quantize(gaussian(n * k, 4 + n), n, k, false);
            float[] want = Fp8Gemm.dgrad(dy, w);
            for (int t = 1; t <= 3; t++) {
                try (ComputePool pool = new ComputePool(t)) {
                    assertSame(JavaFp8Gemm.dgrad(pool, dy, w), want, "dgrad " + m + "x" + n + "x" + k + " t=" + t);
                }
            }
        }
    }

    @Test
    void wgradMatchesReferenceBitForBitOnAnyThreadCount() {
        for (int[] s : SHAPES) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            QuantizedMatrix dy = TileQuantizer.quantizeColumns(gaussian(m * n, 5 + m), m, n, true);
            QuantizedMatrix x = TileQuantizer.quantizeColumns(gaussian(m * k, 6 + k), m, k, true);
            float[] want = Fp8Gemm.wgrad(dy, x);
            for (int t = 1; t <= 3; t++) {
                try (ComputePool pool = new ComputePool(t)) {
                    assertSame(JavaFp8Gemm.wgrad(pool, dy, x), want, "wgrad " + m + "x" + n + "x" + k + " t=" + t);
                }
            }
        }
    }

    @Test
    void rejectsWrongTilingAndInnerMismatch() {
        QuantizedMatrix x = TileQuantizer.quantizeRows(gaussian(4 * 256, 7), 4, 256, false);
        QuantizedMatrix w = BlockQuantizer.quantize(gaussian(8 * 256, 8), 8, 256, false);
        QuantizedMatrix wShort = BlockQuantizer.quantize(gaussian(8 * 200, 9), 8, 200, false);
        ComputePool pool = ComputePool.serial();
        assertThatThrownBy(() -> JavaFp8Gemm.fprop(pool, w, w)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1x128");
        assertThatThrownBy(() -> JavaFp8Gemm.fprop(pool, x, wShort)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inner dimensions differ");
    }

    /** Prints fprop GFLOP/s (2·M·N·K per call) at one thread beside CpuGemm.nt on the dequantized operands. */
    @Test
    void printsThroughputBesideFp32Gemm() {
        ComputePool pool = ComputePool.serial();
        for (int[] s : new int[][] {{2048, 256, 256}, {2048, 512, 256}}) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            QuantizedMatrix x = TileQuantizer.quantizeRows(gaussian(m * k, 11), m, k, false);
            QuantizedMatrix w = BlockQuantizer.quantize(gaussian(n * k, 12), n, k, false);
            float[] xf = x.dequantize();
            float[] wf = w.dequantize();
            float[] y = new float[m * n];
            double flops = 2.0 * m * n * k;
            double fp8Best = Double.MAX_VALUE;
            double fp32Best = Double.MAX_VALUE;
            float sink = 0;
            for (int rep = 0; rep < 80; rep++) {
                long t0 = System.nanoTime();
                float[] r = JavaFp8Gemm.fprop(pool, x, w);
                long t1 = System.nanoTime();
                CpuGemm.nt(pool, m, n, k, xf, 0, k, wf, 0, k, y, 0, n, false);
                long t2 = System.nanoTime();
                sink += r[rep] + y[rep];
                if (rep >= 30) {
                    fp8Best = Math.min(fp8Best, (t1 - t0) * 1e-9);
                    fp32Best = Math.min(fp32Best, (t2 - t1) * 1e-9);
                }
            }
            double g8 = flops / fp8Best * 1e-9;
            double g32 = flops / fp32Best * 1e-9;
            System.out.printf("JavaFp8Gemm.fprop %dx%dx%d (MxNxK), 1 thread: %.1f GFLOP/s; CpuGemm.nt: %.1f GFLOP/s;"
                    + " ratio %.2f (VL=%d)%n", m, n, k, g8, g32, g8 / g32, JavaFp8Gemm.VL);
            assertThat(Float.isNaN(sink)).isFalse();
        }
    }
}
