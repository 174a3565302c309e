package io.sparkseek.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.sparkseek.model.fp8.Fp8Gemm;
import io.sparkseek.model.fp8.QuantizedMatrix;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link JavaFp8Gemm} decodes E4M3 codes without a table where they are contiguous: operands made of every code
 * (±0, all subnormals, the largest normals, and a few NaN codes) must still give {@link Fp8Gemm}'s results bit
 * for bit (NaN as NaN), on shapes that take the vector and the scalar packing paths of every operand.
 */
class JavaFp8GemmCodesTest {

    /** Random codes over all 256 values; the NaN codes 0x7F/0xFF only at {@code nans} random places. */
    private static QuantizedMatrix codes(int rows, int cols, int tileRows, int tileCols, long seed, int nans) {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] c = new byte[rows * cols];
        for (int i = 0; i < c.length; i++) {
            int v = rnd.nextInt(256);
            c[i] = (byte) ((v & 0x7F) == 0x7F ? v & 0x80 : v);
        }
        for (int i = 0; i < nans; i++) {
            c[rnd.nextInt(c.length)] = (byte) (rnd.nextBoolean() ? 0x7F : 0xFF);
        }
        int sr = (rows + tileRows - 1) / tileRows;
        int sc = (cols + tileCols - 1) / tileCols;
        float[] s = new float[sr * sc];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) Math.scalb(1 + rnd.nextDouble(), rnd.nextInt(-8, 3));
        }
        return new QuantizedMatrix(rows, cols, tileRows, tileCols, c, s);
    }

    private static void assertSame(float[] got, float[] want, String what) {
        assertThat(got).hasSameSizeAs(want);
        int mismatches = 0;
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(want[i])) {
                mismatches++;
            }
        }
        assertThat(mismatches).as(what + ": elements differing from Fp8Gemm").isZero();
    }

    @Test
    void everyCodeDecodesLikeTheReference() {
        int[][] shapes = {{96, 80, 256}, {37, 70, 200}};
        try (ComputePool pool = new ComputePool(1)) {
            for (int[] s : shapes) {
                int m = s[0];
                int n = s[1];
                int k = s[2];
                for (int nans : new int[] {0, 2}) {
                    String tag = m + "x" + n + "x" + k + " nans=" + nans;
                    QuantizedMatrix x = codes(m, k, 1, 128, 1 + m, nans);
                    QuantizedMatrix w = codes(n, k, 128, 128, 2 + n, nans);
                    assertSame(JavaFp8Gemm.fprop(pool, x, w), Fp8Gemm.fprop(x, w), "fprop " + tag);
                    QuantizedMatrix dy = codes(m, n, 1, 128, 3 + m, nans);
                    assertSame(JavaFp8Gemm.dgrad(pool, dy, w), Fp8Gemm.dgrad(dy, w), "dgrad " + tag);
                    QuantizedMatrix dyc = codes(m, n, 128, 1, 4 + m, nans);
                    QuantizedMatrix xc = codes(m, k, 128, 1, 5 + m, nans);
                    assertSame(JavaFp8Gemm.wgrad(pool, dyc, xc), Fp8Gemm.wgrad(dyc, xc), "wgrad " + tag);
                }
            }
        }
    }
}
