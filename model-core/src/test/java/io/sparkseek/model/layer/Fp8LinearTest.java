package io.sparkseek.model.layer;

import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.fp8.E5M6Tiles;
import io.sparkseek.model.fp8.Fp8Format;
import io.sparkseek.model.fp8.QuantizedMatrix;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.kernel.JavaBackend;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An FP8 Linear against a double-precision brute-force reference built from the spec's recipe (§8.2–§8.5):
 * quantize-dequantize each operand with its grouping, multiply in double. The products of E4M3 values are exact in
 * fp32 and the layer promotes every 128 products, so the layer must agree to ~1e-6.
 */
class Fp8LinearTest {
    private static final int N = 130;     // tokens: a ragged 128×1 tile along tokens for wgrad
    private static final int IN = 200;    // ragged 1×128 tiles and 128×128 blocks
    private static final int OUT = 150;
    private static final double TOL = 2e-6;

    private static float[] random(Random rnd, int len, double scale) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            // a wide dynamic range across tiles, so per-tile scales matter
            a[i] = (float) (rnd.nextGaussian() * scale * Math.exp(rnd.nextGaussian()));
        }
        return a;
    }

    private static float[] qdq(float[] x, int rows, int cols, int tileRows, int tileCols) {
        return QuantizedMatrix.quantize(x, rows, cols, tileRows, tileCols, false).dequantize();
    }

    /** E5M6 with power-of-two scales per 1×128 tile, from the format definition. */
    private static float[] e5m6(float[] x, int rows, int cols) {
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c0 = 0; c0 < cols; c0 += 128) {
                int c1 = Math.min(cols, c0 + 128);
                double amax = 1e-4;
                for (int c = c0; c < c1; c++) {
                    amax = Math.max(amax, Math.abs(x[r * cols + c]));
                }
                double s = Math.pow(2, Math.ceil(Math.log(amax / 65024.0) / Math.log(2)));
                for (int c = c0; c < c1; c++) {
                    out[r * cols + c] = (float) (Fp8Format.E5M6.round((float) (x[r * cols + c] / s), true) * s);
                }
            }
        }
        return out;
    }

    /** C[m, n] = Σ_k A[m, k]·B[n, k] (transB) or Σ_k A[k, m]·B[k, n] (transA), in double. */
    private static double[] gemmNt(float[] a, float[] b, int m, int n, int k) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += (double) a[i * k + p] * b[j * k + p];
                }
                c[i * n + j] = s;
            }
        }
        return c;
    }

    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }

    private static double maxRel(float[] got, double[] want, int len) {
        double maxErr = 0;
        double maxRef = 0;
        for (int i = 0; i < len; i++) {
            maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
            maxRef = Math.max(maxRef, Math.abs(want[i]));
        }
        return maxErr / maxRef;
    }

    private static void check(Linear.InputCache cache) {
        Random rnd = new Random(11 + cache.ordinal());
        Param w = new Param("w", OUT, IN);
        System.arraycopy(random(rnd, OUT * IN, 0.05), 0, w.w(), 0, OUT * IN);
        float[] g0 = random(rnd, OUT * IN, 0.01);
        System.arraycopy(g0, 0, w.g(), 0, g0.length);
        float[] x = random(rnd, N * IN + 7, 1.0);        // a longer buffer, as layers pass
        float[] dy = random(rnd, N * OUT, 0.1);
        Linear fp8 = new Linear(w, PrecisionPolicy.fp8(JavaBackend.INSTANCE), cache);
        assertThat(fp8.isFp8()).isTrue();

        float[] wHat = qdq(w.w(), OUT, IN, 128, 128);
        float[] xHat = qdq(x, N, IN, 1, 128);
        float[] dyRowHat = qdq(dy, N, OUT, 1, 128);
        float[] xCached = cache == Linear.InputCache.E5M6 ? e5m6(x, N, IN) : xHat;
        float[] xColHat = qdq(xCached, N, IN, 128, 1);
        float[] dyColHat = qdq(dy, N, OUT, 128, 1);

        try (ComputePool pool = new ComputePool(2)) {
            float[] y = fp8.forward(pool, x, N).clone();
            assertThat(maxRel(y, gemmNt(xHat, wHat, N, OUT, IN), N * OUT)).isLessThan(TOL);

            float[] dx = fp8.backward(pool, dy, N).clone();
            double[] dxRef = gemmNt(dyRowHat, transpose(wHat, OUT, IN), N, IN, OUT);
            assertThat(maxRel(dx, dxRef, N * IN)).isLessThan(TOL);

            double[] dwRef = gemmNt(transpose(dyColHat, N, OUT), transpose(xColHat, N, IN), OUT, IN, N);
            float[] dw = new float[OUT * IN];
            for (int i = 0; i < dw.length; i++) {
                dw[i] = w.g()[i] - g0[i];     // the layer accumulates into the gradient
            }
            assertThat(maxRel(dw, dwRef, OUT * IN)).isLessThan(1e-5);

            // FP8 is not FP32 in disguise: the exact product differs by a few percent.
            double[] exact = gemmNt(x, w.w(), N, OUT, IN);
            assertThat(maxRel(y, exact, N * OUT)).isBetween(1e-3, 0.1);
        }
    }

    @Test
    void e4m3CachedInputMatchesTheRecipe() {
        check(Linear.InputCache.E4M3);
    }

    @Test
    void e5m6CachedInputMatchesTheRecipe() {
        check(Linear.InputCache.E5M6);
    }

    /** A Linear reading the input another one just consumed gives the bits of its own forward and backward. */
    @Test
    void sharedInputGivesTheSameBitsAsItsOwnForward() {
        Random rnd = new Random(5);
        float[] x = random(rnd, N * IN, 1.0);
        float[] dy = random(rnd, N * OUT, 0.1);
        float[] w0 = random(rnd, OUT * IN, 0.05);
        PrecisionPolicy fp8 = PrecisionPolicy.fp8(JavaBackend.INSTANCE);
        Linear first = new Linear(new Param("first", OUT, IN), fp8, Linear.InputCache.E4M3);
        Linear alone = new Linear(new Param("alone", OUT, IN), fp8, Linear.InputCache.E4M3);
        Linear shared = new Linear(new Param("shared", OUT, IN), fp8, Linear.InputCache.E4M3);
        for (Linear l : new Linear[]{first, alone, shared}) {
            System.arraycopy(w0, 0, l.weight().w(), 0, w0.length);
        }
        try (ComputePool pool = new ComputePool(2)) {
            first.forward(pool, x, N);
            float[] yAlone = alone.forward(pool, x, N).clone();
            float[] yShared = shared.forwardOnInputOf(pool, first, N).clone();
            assertThat(yShared).containsExactly(yAlone);
            float[] dxShared = shared.backward(pool, dy, N).clone();   // before the owner's own backward
            float[] dxAlone = alone.backward(pool, dy, N).clone();
            first.backward(pool, dy, N);
            assertThat(dxShared).containsExactly(dxAlone);
            assertThat(shared.weight().g()).containsExactly(alone.weight().g());
            assertThat(first.weight().g()).containsExactly(alone.weight().g());
        }
    }

    @Test
    void e5m6CacheMatchesItsDefinitionAndIsFinerThanE4m3() {
        Random rnd = new Random(3);
        float[] x = random(rnd, N * IN, 1.0);
        float[] e4 = qdq(x, N, IN, 1, 128);
        float[] e5 = e5m6(x, N, IN);
        float[] cached = new float[N * IN];
        E5M6Tiles.quantize(x, N, IN).dequantizeInto(cached);
        assertThat(cached).containsExactly(e5);
        double err4 = 0;
        double err5 = 0;
        for (int i = 0; i < x.length; i++) {
            err4 += Math.abs(e4[i] - x[i]);
            err5 += Math.abs(e5[i] - x[i]);
        }
        // 7 significant bits against 4: about 8x smaller rounding error
        assertThat(err5).isLessThan(err4 / 5);
    }
}
