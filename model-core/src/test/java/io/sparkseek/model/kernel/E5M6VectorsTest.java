package io.sparkseek.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkseek.model.fp8.E5M6Tiles;
import io.sparkseek.model.fp8.Fp8Format;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link E5M6Vectors} against the scalar {@link E5M6Tiles#quantizeInto} (codes, scales, exception) on random and
 * ragged inputs, and its encoder against {@link Fp8Format#encode} (checked against brute force in
 * {@code Fp8FormatTest}) on every E5M6 tie, neighbour and binade, saturation, subnormal results and ±0.
 */
class E5M6VectorsTest {

    private static final int[][] SHAPES = {{64, 128}, {5, 256}, {3, 300}, {7, 1}, {2, 17}, {1, 129}, {9, 200},
        {1, 0}, {0, 5}};

    /** exp(N(0, 6²)) with random signs, some exact zeros and −0: magnitudes over ~30 binades. */
    private static float[] wide(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double u = rnd.nextDouble();
            double g = Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
            float v = (float) Math.exp(6 * g);
            x[i] = rnd.nextInt(20) == 0 ? (rnd.nextBoolean() ? 0f : -0f) : rnd.nextBoolean() ? v : -v;
        }
        return x;
    }

    private static void assertSameAsScalar(float[] x, int rows, int cols) {
        int sCols = (cols + 127) / 128;
        short[] want = new short[rows * cols + 3];
        float[] wantScales = new float[rows * sCols + 2];
        E5M6Tiles.quantizeInto(x, rows, cols, want, wantScales);
        short[] got = new short[rows * cols + 3];
        float[] gotScales = new float[rows * sCols + 2];
        E5M6Tiles t = E5M6Vectors.quantizeInto(x, rows, cols, got, gotScales);
        assertThat(got).as("codes %dx%d", rows, cols).isEqualTo(want);
        assertThat(gotScales).as("scales %dx%d", rows, cols).isEqualTo(wantScales);
        assertThat(t.rows()).isEqualTo(rows);
        assertThat(t.cols()).isEqualTo(cols);
        float[] a = new float[rows * cols];
        float[] b = new float[rows * cols];
        t.dequantizeInto(a);
        E5M6Tiles.quantize(x, rows, cols).dequantizeInto(b);
        assertThat(a).isEqualTo(b);
    }

    @Test
    void matchesTheScalarQuantizerOnRandomAndRaggedShapes() {
        long seed = 1;
        for (int[] sh : SHAPES) {
            assertSameAsScalar(wide(sh[0] * sh[1], seed++), sh[0], sh[1]);
            float[] g = wide(sh[0] * sh[1], seed++);
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) Math.max(-1e4, Math.min(1e4, g[i] * 1e-3));
            }
            assertSameAsScalar(g, sh[0], sh[1]);
        }
        // Tiles whose amax is below the 1e-4 floor, and a longer buffer than rows·cols.
        float[] tiny = wide(4 * 160 + 7, seed);
        for (int i = 0; i < tiny.length; i++) {
            tiny[i] *= 1e-12f;
        }
        assertSameAsScalar(tiny, 4, 160);
    }

    /**
     * With the scale fixed to 1 (the tile's amax is 65024, E5M6's max), every other element is encoded as given:
     * for every fp32 binade from below 2^-21 to above the max, mantissas at and around each E5M6 tie
     * (the 17 dropped bits 0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x10000, 0x1FFFF, random), both signs.
     */
    @Test
    void encodesTiesSubnormalsAndSaturationLikeTheFormat() {
        int[] lows = {0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x10000, 0x1FFFF, -1};
        SplittableRandom rnd = new SplittableRandom(5);
        int cols = 128;
        int n = 0;
        float[] vals = new float[(160 - 100) * 64 * lows.length * 2 + 8];
        for (int e = 100; e < 160; e++) {
            for (int top = 0; top < 64; top++) {
                for (int low : lows) {
                    int bits = e << 23 | top << 17 | (low >= 0 ? low : rnd.nextInt(1 << 17));
                    vals[n++] = Float.intBitsToFloat(bits);
                    vals[n++] = -Float.intBitsToFloat(bits);
                }
            }
        }
        for (float v : new float[] {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 65024f, 65280f, 65279.99f,
            Float.MAX_VALUE}) {
            vals[n++] = v;
        }
        int rows = (n + cols - 2) / (cols - 1);
        float[] x = new float[rows * cols];
        for (int r = 0, k = 0; r < rows; r++) {
            x[r * cols] = 65024f;
            for (int c = 1; c < cols; c++) {
                x[r * cols + c] = k < n ? Math.max(-65024f, Math.min(65024f, vals[k++])) : 0f;
            }
        }
        short[] codes = new short[x.length];
        float[] scales = new float[rows];
        E5M6Vectors.quantizeInto(x, rows, cols, codes, scales);
        for (int i = 0; i < x.length; i++) {
            assertThat(scales[i / cols]).isEqualTo(1f);
            assertThat(codes[i]).as("x = %s (bits %08x)", x[i], Float.floatToRawIntBits(x[i]))
                    .isEqualTo((short) Fp8Format.E5M6.encode(x[i], true));
        }
        // Unclamped values above the max (scale 2, so x / 2 reaches past 65024 only through saturation).
        short[] one = new short[16 * 128];
        float[] big = new float[16 * 128];
        Arrays.fill(big, 130048f);
        for (int i = 1; i < big.length; i += 2) {
            big[i] = -Float.intBitsToFloat(Float.floatToRawIntBits(130048f) + i);
        }
        big[0] = 130048f;
        assertSameAsScalar(big, 16, 128);
        E5M6Vectors.encode(new float[] {1e38f, -3e38f, 65535f, 65536f, 70000f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f,
            0f, 0f, 0f}, 0, 17, 1f, one);
        float[] raw = {1e38f, -3e38f, 65535f, 65536f, 70000f};
        for (int i = 0; i < raw.length; i++) {
            assertThat(one[i]).isEqualTo((short) Fp8Format.E5M6.encode(raw[i], true));
        }
    }

    @Test
    void nonFiniteInputGivesTheScalarException() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] x = wide(3 * 200, 9);
            x[2 * 200 + 150] = bad;
            Throwable want = null;
            try {
                E5M6Tiles.quantize(x, 3, 200);
            } catch (RuntimeException e) {
                want = e;
            }
            assertThat(want).isNotNull();
            assertThatThrownBy(() -> E5M6Vectors.quantizeInto(x, 3, 200, new short[600], new float[6]))
                    .isInstanceOf(want.getClass()).hasMessage(want.getMessage());
        }
        assertThatThrownBy(() -> E5M6Vectors.quantizeInto(new float[10], 3, 4, new short[12], new float[3]))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
