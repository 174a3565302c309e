package io.sparkseek.model.fp8;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkseek.model.fp8.Fp8Gemm.Accumulation;
import io.sparkseek.model.fp8.Fp8Gemm.Rounding;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.kernel.JavaFp8Gemm;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Checks {@link Fp8Gemm} (spec §8.3, §8.4) against a double-precision triple loop on the dequantized operands
 * ({@code decode(q) · scale}, computed here from the codes and scales), against fp32 math on the unquantized
 * operands, and measures what promotion buys over a ~14-bit accumulator for K = 4096.
 */
class Fp8GemmTest {

    /** Ragged and aligned (M, N, K) shapes. */
    private static final int[][] SHAPES = {{5, 160, 300}, {1, 1, 1}, {130, 129, 257}, {64, 128, 256}, {300, 40, 131}};

    private static float[] gaussian(int n, long seed, double sigma) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            // Box-Muller
            double u = 1 - rnd.nextDouble();
            double v = rnd.nextDouble();
            x[i] = (float) (sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
        }
        return x;
    }

    /** Dequantized values in double, from the codes and scales independently of {@link QuantizedMatrix#dequantize}. */
    private static double[] dequant(QuantizedMatrix q) {
        double[] out = new double[q.rows() * q.cols()];
        float[] scales = q.scales();
        for (int r = 0; r < q.rows(); r++) {
            for (int c = 0; c < q.cols(); c++) {
                double s = scales[(r / q.tileRows()) * q.scaleCols() + c / q.tileCols()];
                out[r * q.cols() + c] = (double) Fp8Format.E4M3.decode(q.codes()[r * q.cols() + c] & 0xFF) * s;
            }
        }
        return out;
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

    /** C[m,n] = Σ_k A(m,k)·B(k,n) in double; A(m,k) = a[m*sam + k*sak], B(k,n) = b[k*sbk + n*sbn]. */
    private static double[] matmul(int m, int n, int k, double[] a, int sam, int sak, double[] b, int sbk, int sbn) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += a[i * sam + p * sak] * b[p * sbk + j * sbn];
                }
                c[i * n + j] = s;
            }
        }
        return c;
    }

    /** Y = X·Wᵀ, X [M,K], W [N,K]. */
    private static double[] nt(int m, int n, int k, double[] x, double[] w) {
        return matmul(m, n, k, x, k, 1, w, 1, k);
    }

    /** dX = dY·W, dY [M,N], W [N,K]. */
    private static double[] nn(int m, int n, int k, double[] dy, double[] w) {
        return matmul(m, k, n, dy, n, 1, w, k, 1);
    }

    /** dW = dYᵀ·X, dY [M,N], X [M,K]. */
    private static double[] tn(int m, int n, int k, double[] dy, double[] x) {
        return matmul(n, k, m, dy, 1, n, x, k, 1);
    }

    /** max|got − ref| / max|ref|. */
    private static double relErr(float[] got, double[] ref) {
        assertThat(got).hasSize(ref.length);
        double maxErr = 0;
        double maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(got[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxRef == 0 ? maxErr : maxErr / maxRef;
    }

    @Test
    void allThreeGemmsMatchDoubleOnDequantizedOperands() {
        long seed = 1;
        for (int[] s : SHAPES) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            float[] x = gaussian(m * k, seed++, 1.0);
            float[] w = gaussian(n * k, seed++, 0.05);
            float[] dy = gaussian(m * n, seed++, 1e-3);
            QuantizedMatrix qw = BlockQuantizer.quantize(w, n, k);

            QuantizedMatrix qx = TileQuantizer.quantizeRows(x, m, k, false);
            double fprop = relErr(Fp8Gemm.fprop(qx, qw), nt(m, n, k, dequant(qx), dequant(qw)));
            assertThat(fprop).as("fprop %s", Arrays.toString(s)).isLessThanOrEqualTo(1e-6);

            QuantizedMatrix qdy = TileQuantizer.quantizeRows(dy, m, n, false);
            double dgrad = relErr(Fp8Gemm.dgrad(qdy, qw), nn(m, n, k, dequant(qdy), dequant(qw)));
            assertThat(dgrad).as("dgrad %s", Arrays.toString(s)).isLessThanOrEqualTo(1e-6);

            QuantizedMatrix qdyc = TileQuantizer.quantizeColumns(dy, m, n, true);
            QuantizedMatrix qxc = TileQuantizer.quantizeColumns(x, m, k, true);
            double wgrad = relErr(Fp8Gemm.wgrad(qdyc, qxc), tn(m, n, k, dequant(qdyc), dequant(qxc)));
            assertThat(wgrad).as("wgrad %s", Arrays.toString(s)).isLessThanOrEqualTo(1e-6);
        }
    }

    @Test
    void subChunkPromotionAgreesWithDequantizedReference() {
        int m = 7;
        int n = 150;
        int k = 300;
        float[] x = gaussian(m * k, 11, 1.0);
        float[] w = gaussian(n * k, 12, 0.1);
        QuantizedMatrix qx = TileQuantizer.quantizeRows(x, m, k, false);
        QuantizedMatrix qw = BlockQuantizer.quantize(w, n, k);
        double[] ref = nt(m, n, k, dequant(qx), dequant(qw));
        for (int nc : new int[] {1, 32, 64, 128}) {
            Accumulation acc = Accumulation.promoted(nc, Fp8Gemm.FP32_SIGNIFICANT_BITS, Rounding.NEAREST_EVEN);
            assertThat(relErr(Fp8Gemm.fprop(qx, qw, acc), ref)).as("N_C = %d", nc).isLessThanOrEqualTo(1e-6);
        }
        Accumulation none = Accumulation.unpromoted(Fp8Gemm.FP32_SIGNIFICANT_BITS, Rounding.NEAREST_EVEN);
        assertThat(relErr(Fp8Gemm.fprop(qx, qw, none), ref)).isLessThanOrEqualTo(1e-6);
    }

    @Test
    void fp8ErrorAgainstUnquantizedFp32IsThatOfE4m3() {
        long seed = 100;
        for (int[] s : SHAPES) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            float[] x = gaussian(m * k, seed++, 1.0);
            float[] w = gaussian(n * k, seed++, 0.05);
            float[] dy = gaussian(m * n, seed++, 1e-3);
            QuantizedMatrix qw = BlockQuantizer.quantize(w, n, k);
            double fprop = relErr(Fp8Gemm.fprop(TileQuantizer.quantizeRows(x, m, k, false), qw),
                    nt(m, n, k, toDouble(x), toDouble(w)));
            double dgrad = relErr(Fp8Gemm.dgrad(TileQuantizer.quantizeRows(dy, m, n, false), qw),
                    nn(m, n, k, toDouble(dy), toDouble(w)));
            double wgrad = relErr(Fp8Gemm.wgrad(TileQuantizer.quantizeColumns(dy, m, n, false),
                    TileQuantizer.quantizeColumns(x, m, k, false)), tn(m, n, k, toDouble(dy), toDouble(x)));
            System.out.printf("FP8 vs FP32 %dx%dx%d: fprop %.4f, dgrad %.4f, wgrad %.4f (max-norm relative)%n",
                    m, n, k, fprop, dgrad, wgrad);
            assertThat(fprop).isLessThan(0.05);
            assertThat(dgrad).isLessThan(0.05);
            assertThat(wgrad).isLessThan(0.05);
        }
    }

    private static double relL2(float[] got, double[] ref) {
        double err = 0;
        double norm = 0;
        for (int i = 0; i < ref.length; i++) {
            err += (got[i] - ref[i]) * (got[i] - ref[i]);
            norm += ref[i] * ref[i];
        }
        return Math.sqrt(err / norm);
    }

    /** Activations whose channels differ in scale (lognormal), as real ones do. */
    private static float[] activations(int rows, int cols, long seed) {
        float[] x = gaussian(rows * cols, seed, 1.0);
        SplittableRandom rnd = new SplittableRandom(seed + 1);
        for (int c = 0; c < cols; c++) {
            float f = (float) Math.exp(rnd.nextGaussian());
            for (int r = 0; r < rows; r++) {
                x[r * cols + c] *= f;
            }
        }
        return x;
    }

    /**
     * FP8 against FP32 (double on the unquantized operands) on the GEMMs of conf/models/small.json at batch 8 ×
     * seq 256 = 2048 tokens (routed experts ~512 tokens each); figures in docs/fp8.md.
     */
    @Test
    void fp8VersusFp32OnTheSmallConfigShapes() {
        String[] names = {"q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj", "mlp.gate/up_proj",
            "mlp.down_proj", "expert gate/up_proj", "expert down_proj"};
        int[][] shapes = {{2048, 128, 256}, {2048, 192, 128}, {2048, 80, 256}, {2048, 256, 64}, {2048, 256, 128},
            {2048, 512, 256}, {2048, 256, 512}, {512, 128, 256}, {512, 256, 128}};
        try (ComputePool pool = new ComputePool(2)) {
            for (int i = 0; i < shapes.length; i++) {
                int m = shapes[i][0];
                int n = shapes[i][1];
                int k = shapes[i][2];
                float[] x = activations(m, k, 100 + i);
                float[] w = gaussian(n * k, 200 + i, 0.02);
                float[] dy = activations(m, n, 300 + i);
                QuantizedMatrix qw = BlockQuantizer.quantize(w, n, k);
                float[] y = JavaFp8Gemm.fprop(pool, TileQuantizer.quantizeRows(x, m, k, false), qw);
                float[] dx = JavaFp8Gemm.dgrad(pool, TileQuantizer.quantizeRows(dy, m, n, false), qw);
                float[] dw = JavaFp8Gemm.wgrad(pool, TileQuantizer.quantizeColumns(dy, m, n, false),
                        TileQuantizer.quantizeColumns(x, m, k, false));
                double[] yRef = nt(m, n, k, toDouble(x), toDouble(w));
                double[] dxRef = nn(m, n, k, toDouble(dy), toDouble(w));
                double[] dwRef = tn(m, n, k, toDouble(dy), toDouble(x));
                System.out.printf("small config %-20s %4dx%3dx%3d  max-norm / L2 relative error: fprop %.4f / %.4f,"
                                + " dgrad %.4f / %.4f, wgrad %.4f / %.4f%n", names[i], m, n, k,
                        relErr(y, yRef), relL2(y, yRef), relErr(dx, dxRef), relL2(dx, dxRef),
                        relErr(dw, dwRef), relL2(dw, dwRef));
                assertThat(relErr(y, yRef)).isLessThan(0.08);
                assertThat(relErr(dx, dxRef)).isLessThan(0.08);
                assertThat(relErr(dw, dwRef)).isLessThan(0.08);
                assertThat(relL2(y, yRef)).isBetween(1e-2, 0.05);
                assertThat(relL2(dx, dxRef)).isBetween(1e-2, 0.05);
                assertThat(relL2(dw, dwRef)).isBetween(1e-2, 0.05);
            }
        }
    }

    @Test
    void promotionEvery128ShrinksFourteenBitAccumulationError() {
        int m = 64;
        int n = 64;
        int k = 4096;
        float[] x = gaussian(m * k, 41, 1.0);
        float[] w = gaussian(n * k, 42, 1.0);
        QuantizedMatrix qx = TileQuantizer.quantizeRows(x, m, k, false);
        QuantizedMatrix qw = BlockQuantizer.quantize(w, n, k);
        double[] ref = nt(m, n, k, dequant(qx), dequant(qw));
        int bits = Fp8Gemm.HOPPER_ACCUMULATOR_BITS;
        for (Rounding r : Rounding.values()) {
            double none = relErr(Fp8Gemm.fprop(qx, qw, Accumulation.unpromoted(bits, r)), ref);
            double promoted = relErr(Fp8Gemm.fprop(qx, qw, Accumulation.promoted(128, bits, r)), ref);
            System.out.printf("%dx%dx%d, %d-bit accumulator, %s: max rel error %.5f without promotion, "
                    + "%.5f with promotion every 128 (%.1fx)%n", m, n, k, bits, r, none, promoted, none / promoted);
            assertThat(promoted * 3).as(r.name()).isLessThan(none);
            assertThat(none).as(r.name()).isLessThan(0.2);
        }
    }

    @Test
    void roundToBitsKeepsTheRequestedSignificantBits() {
        assertThat(Fp8Gemm.roundToBits(1f + 0x1p-13f, 14, Rounding.NEAREST_EVEN)).isEqualTo(1f + 0x1p-13f);
        // Exact tie between 1 and 1 + 2^-13 goes to the even (1); just above goes up.
        assertThat(Fp8Gemm.roundToBits(1f + 0x1p-14f, 14, Rounding.NEAREST_EVEN)).isEqualTo(1f);
        assertThat(Fp8Gemm.roundToBits(1f + 3 * 0x1p-14f, 14, Rounding.NEAREST_EVEN)).isEqualTo(1f + 0x1p-12f);
        assertThat(Fp8Gemm.roundToBits(1f + 0x1p-14f + 0x1p-20f, 14, Rounding.NEAREST_EVEN))
                .isEqualTo(1f + 0x1p-13f);
        assertThat(Fp8Gemm.roundToBits(-(1f + 0x1p-14f + 0x1p-20f), 14, Rounding.NEAREST_EVEN))
                .isEqualTo(-(1f + 0x1p-13f));
        assertThat(Fp8Gemm.roundToBits(-(2f - 0x1p-20f), 14, Rounding.TOWARD_ZERO)).isEqualTo(-(2f - 0x1p-13f));
        assertThat(Fp8Gemm.roundToBits(2f - 0x1p-20f, 14, Rounding.NEAREST_EVEN)).isEqualTo(2f);
        float v = 1.2345678f;
        assertThat(Fp8Gemm.roundToBits(v, 24, Rounding.TOWARD_ZERO)).isEqualTo(v);
        assertThat(Fp8Gemm.roundToBits(Float.NaN, 14, Rounding.NEAREST_EVEN)).isNaN();
        assertThat(Fp8Gemm.roundToBits(Float.NEGATIVE_INFINITY, 14, Rounding.TOWARD_ZERO))
                .isEqualTo(Float.NEGATIVE_INFINITY);
    }

    @Test
    void rejectsWrongTilingShapesAndIntervals() {
        QuantizedMatrix x = TileQuantizer.quantizeRows(new float[4 * 200], 4, 200, false);
        QuantizedMatrix w = BlockQuantizer.quantize(new float[3 * 200], 3, 200);
        QuantizedMatrix wShort = BlockQuantizer.quantize(new float[3 * 100], 3, 100);
        assertThatThrownBy(() -> Fp8Gemm.fprop(x, wShort)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("200").hasMessageContaining("100");
        assertThatThrownBy(() -> Fp8Gemm.fprop(w, x)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1x128");
        assertThatThrownBy(() -> Fp8Gemm.wgrad(x, x)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("128x1");
        assertThatThrownBy(() -> Accumulation.promoted(96, 14, Rounding.NEAREST_EVEN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("96");
        assertThatThrownBy(() -> Accumulation.promoted(256, 14, Rounding.NEAREST_EVEN))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Accumulation.unpromoted(25, Rounding.NEAREST_EVEN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("25");
    }
}
