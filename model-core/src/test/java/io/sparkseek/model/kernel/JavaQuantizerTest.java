package io.sparkseek.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkseek.model.fp8.QuantizedMatrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link JavaQuantizer} against the scalar reference {@link QuantizedMatrix#quantize}: codes and scales bit for bit
 * on random, crafted (ties, saturation, subnormal results, ±0) and ragged inputs in the three training tilings and
 * a few others, with power-of-two scales on and off and 1 or 2 threads; the same exception on NaN/Inf; dequantize
 * equal to {@link QuantizedMatrix#dequantize()}; an independent nearest-value check against the E4M3 grid; and a
 * throughput printout.
 */
class JavaQuantizerTest {

    private static final float MAX = 448f;
    /** (rows, cols) of the shapes; every tiling runs on every shape. */
    private static final int[][] SHAPES = {{160, 512}, {130, 257}, {1, 1}, {3, 300}, {300, 5}, {256, 128},
        {129, 33}, {17, 1100}};
    /** (tileRows, tileCols): the three used by training, then the generic paths. */
    private static final int[][] TILES = {{1, 128}, {128, 1}, {128, 128}, {2, 3}, {64, 32}, {7, 1}, {1, 1}};

    // ---------------------------------------------------------------- inputs

    private static float[] gaussian(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) normal(rnd);
        }
        return x;
    }

    /** exp(N(0, 6²)) with random signs: magnitudes over ~30 binades, so many codes are subnormal or zero. */
    private static float[] lognormal(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            float v = (float) Math.exp(6 * normal(rnd));
            x[i] = rnd.nextBoolean() ? v : -v;
        }
        return x;
    }

    /** Gaussian with about a quarter exact zeros, half of them -0.0, and some tiny values (subnormal floats). */
    private static float[] sparse(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            int k = rnd.nextInt(16);
            if (k < 2) {
                x[i] = 0f;
            } else if (k < 4) {
                x[i] = -0f;
            } else if (k == 4) {
                x[i] = Float.intBitsToFloat(rnd.nextInt(1 << 23)) * (rnd.nextBoolean() ? 1 : -1);
            } else {
                x[i] = (float) normal(rnd);
            }
        }
        return x;
    }

    private static double normal(SplittableRandom rnd) {
        double u = 1 - rnd.nextDouble();
        double v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** All E4M3 magnitudes 0..448 in increasing order (codes 0x00..0x7E). */
    private static float[] grid() {
        float[] g = new float[0x7F];
        for (int c = 0; c < g.length; c++) {
            g[c] = QuantizedMatrix.FORMAT.decode(c);
        }
        return g;
    }

    /**
     * Exact midpoints between neighbouring grid values, 464 (= 448 + half a step, the tie that saturates), and
     * each of them one ulp either side, plus the grid values and their neighbours; both signs.
     */
    private static float[] tiesAndNeighbours() {
        float[] g = grid();
        List<Float> v = new ArrayList<>();
        for (int c = 0; c < g.length; c++) {
            float mid = c + 1 < g.length ? (g[c] + g[c + 1]) / 2 : 464f;
            for (float f : new float[] {g[c], mid}) {
                v.add(f);
                v.add(Math.nextUp(f));
                v.add(Math.nextDown(f));
            }
        }
        for (float f : new float[] {448.00003f, 460f, 463.99997f, 464f, 464.00003f, 479.99997f, 480f, 500f, 1e6f,
            Float.MAX_VALUE, Float.MIN_VALUE, Float.MIN_NORMAL, 0x1p-10f, 0x1p-9f, 0x1.8p-10f, 0x1.0000002p-10f}) {
            v.add(f);
        }
        float[] out = new float[2 * v.size()];
        for (int i = 0; i < v.size(); i++) {
            out[2 * i] = v.get(i);
            out[2 * i + 1] = -v.get(i);
        }
        return out;
    }

    // ---------------------------------------------------------------- assertions

    private static void assertSameAsReference(float[] x, int rows, int cols, int tr, int tc, boolean pow2,
            String what) {
        QuantizedMatrix want = QuantizedMatrix.quantize(x, rows, cols, tr, tc, pow2);
        for (int t = 1; t <= 2; t++) {
            try (ComputePool pool = new ComputePool(t)) {
                QuantizedMatrix got = JavaQuantizer.quantize(pool, x, rows, cols, tr, tc, pow2);
                String w = what + " " + rows + "x" + cols + " in " + tr + "x" + tc + " pow2=" + pow2 + " t=" + t;
                assertThat(got.rows()).isEqualTo(rows);
                assertThat(got.cols()).isEqualTo(cols);
                assertThat(got.tileRows()).isEqualTo(tr);
                assertThat(got.tileCols()).isEqualTo(tc);
                assertSameScales(got.scales(), want.scales(), w);
                assertSameCodes(got.codes(), want.codes(), x, w);
            }
        }
    }

    private static void assertSameScales(float[] got, float[] want, String what) {
        assertThat(got).as(what + ": scale count").hasSameSizeAs(want);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
                throw new AssertionError(what + ": scale " + i + " is " + got[i] + ", reference " + want[i]);
            }
        }
    }

    private static void assertSameCodes(byte[] got, byte[] want, float[] x, String what) {
        assertThat(got).as(what + ": code count").hasSameSizeAs(want);
        for (int i = 0; i < want.length; i++) {
            if (got[i] != want[i]) {
                throw new AssertionError(String.format("%s: code %d of x=%s (bits %08x) is 0x%02x, reference 0x%02x",
                        what, i, x[i], Float.floatToRawIntBits(x[i]), got[i] & 0xFF, want[i] & 0xFF));
            }
        }
    }

    // ---------------------------------------------------------------- tests

    /** The vector encode itself (s = 1, v = x) on a dense step sample of all finite floats of both signs. */
    @Test
    void encodeMatchesReferenceOnDenseSampleOfAllFloats() {
        int step = 97;
        int n = 0x7F80_0000 / step + 1;
        float[] x = new float[2 * n];
        for (int i = 0; i < n; i++) {
            float f = Float.intBitsToFloat(i * step);
            x[2 * i] = f;
            x[2 * i + 1] = -f;
        }
        checkEncode(x, "all floats step " + step);
    }

    /** Every 7th float bit pattern in [0, 464] (the range x/s takes), both signs, through the vector encode. */
    @Test
    void encodeMatchesReferenceOnDenseSampleOfTheE4m3Range() {
        int step = 7;
        int last = Float.floatToRawIntBits(464f);
        int n = last / step + 1;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            float f = Float.intBitsToFloat(i * step);
            x[i] = (i & 1) == 0 ? f : -f;
        }
        checkEncode(x, "[0, 464] step " + step);
    }

    @Test
    void encodeMatchesReferenceOnTiesSaturationAndSubnormals() {
        float[] x = tiesAndNeighbours();
        for (int off = 0; off < 17; off++) { // every lane position and the scalar tail
            float[] shifted = new float[x.length + off];
            System.arraycopy(x, 0, shifted, off, x.length);
            checkEncode(shifted, "ties shifted by " + off);
        }
    }

    private static void checkEncode(float[] x, String what) {
        byte[] got = new byte[x.length];
        JavaQuantizer.encodeSpan(x, 0, x.length, 1f, got);
        for (int i = 0; i < x.length; i++) {
            int want = QuantizedMatrix.FORMAT.encode(x[i], true);
            if ((got[i] & 0xFF) != want) {
                throw new AssertionError(String.format("%s: E4M3(%s) (bits %08x) gave 0x%02x, reference 0x%02x", what,
                        x[i], Float.floatToRawIntBits(x[i]), got[i] & 0xFF, want));
            }
        }
    }

    /** Ties after the division: elements mid·s with power-of-two s (exact), and the same with s = amax/448. */
    @Test
    void tiesAfterDivisionMatchReference() {
        float[] t = tiesAndNeighbours();
        int cols = 128;
        int rows = (t.length + cols - 2) / (cols - 1);
        for (float s : new float[] {0.125f, 1f, 0x1p-20f, 3f / 448f, 0.3f}) {
            float[] x = new float[rows * cols];
            for (int r = 0, k = 0; r < rows; r++) {
                x[r * cols] = MAX * s; // the amax of each 1x128 tile: scale = s (exactly when s is 2^k)
                for (int c = 1; c < cols; c++, k++) {
                    float v = t[k % t.length];
                    x[r * cols + c] = Math.abs(v) <= MAX ? v * s : Math.copySign(MAX * s, v);
                }
            }
            for (boolean pow2 : new boolean[] {false, true}) {
                assertSameAsReference(x, rows, cols, 1, 128, pow2, "ties s=" + s);
                assertSameAsReference(x, rows, cols, 128, 128, pow2, "ties s=" + s);
                assertSameAsReference(x, rows, cols, 128, 1, pow2, "ties s=" + s);
            }
        }
    }

    @Test
    void randomInputsMatchReferenceOnAllShapesTilingsAndThreadCounts() {
        long seed = 1;
        for (int[] shape : SHAPES) {
            int rows = shape[0];
            int cols = shape[1];
            int n = rows * cols;
            float[][] inputs = {gaussian(n, seed++), lognormal(n, seed++), sparse(n, seed++)};
            String[] names = {"gaussian", "lognormal", "sparse"};
            for (int[] tile : TILES) {
                for (int k = 0; k < inputs.length; k++) {
                    for (boolean pow2 : new boolean[] {false, true}) {
                        assertSameAsReference(inputs[k], rows, cols, tile[0], tile[1], pow2, names[k]);
                    }
                }
            }
        }
    }

    @Test
    void largeInputsRunInParallelAndMatchReference() {
        int rows = 1024;
        int cols = 640;
        float[] x = lognormal(rows * cols, 99);
        for (int[] tile : new int[][] {{1, 128}, {128, 1}, {128, 128}}) {
            assertSameAsReference(x, rows, cols, tile[0], tile[1], false, "large");
            assertSameAsReference(x, rows, cols, tile[0], tile[1], true, "large");
        }
    }

    @Test
    void raggedShapesHaveTheReferenceScaleGrid() {
        ComputePool pool = ComputePool.serial();
        QuantizedMatrix a = JavaQuantizer.quantize(pool, gaussian(160 * 512, 5), 160, 512, 128, 128, false);
        assertThat(a.scaleRows()).isEqualTo(2);
        assertThat(a.scaleCols()).isEqualTo(4);
        assertThat(a.scales()).hasSize(8);
        QuantizedMatrix b = JavaQuantizer.quantize(pool, gaussian(3 * 300, 6), 3, 300, 1, 128, false);
        assertThat(b.scales()).hasSize(3 * 3);
        QuantizedMatrix c = JavaQuantizer.quantize(pool, gaussian(300 * 5, 7), 300, 5, 128, 1, false);
        assertThat(c.scales()).hasSize(3 * 5);
        QuantizedMatrix d = JavaQuantizer.quantize(pool, gaussian(130 * 257, 8), 130, 257, 128, 128, true);
        assertThat(d.scales()).hasSize(2 * 3);
    }

    @Test
    void allZeroTilesGetTheFloorScale() {
        float[] x = new float[256 * 256];
        float[] signed = new float[256 * 256];
        Arrays.fill(signed, -0f);
        for (int[] tile : TILES) {
            for (boolean pow2 : new boolean[] {false, true}) {
                QuantizedMatrix q = JavaQuantizer.quantize(ComputePool.serial(), x, 256, 256, tile[0], tile[1], pow2);
                float want = pow2 ? QuantizedMatrix.ceilPowerOfTwo(1e-4f / 448f) : 1e-4f / 448f;
                for (float s : q.scales()) {
                    assertThat(Float.floatToRawIntBits(s)).isEqualTo(Float.floatToRawIntBits(want));
                }
                for (byte b : q.codes()) {
                    assertThat(b).isZero();
                }
                assertSameAsReference(x, 256, 256, tile[0], tile[1], pow2, "zeros");
                assertSameAsReference(signed, 256, 256, tile[0], tile[1], pow2, "negative zeros");
                QuantizedMatrix neg = JavaQuantizer.quantize(ComputePool.serial(), signed, 256, 256, tile[0], tile[1],
                        pow2);
                for (byte b : neg.codes()) {
                    assertThat(b & 0xFF).isEqualTo(0x80);
                }
            }
        }
    }

    /** Only x[0, rows·cols) is read: NaNs past the end change nothing. */
    @Test
    void longerInputBuffersAreReadOnlyUpToTheShape() {
        int rows = 130;
        int cols = 257;
        float[] x = gaussian(rows * cols, 11);
        float[] longer = Arrays.copyOf(x, rows * cols + 1000);
        Arrays.fill(longer, rows * cols, longer.length, Float.NaN);
        for (int[] tile : TILES) {
            QuantizedMatrix want = QuantizedMatrix.quantize(x, rows, cols, tile[0], tile[1], false);
            try (ComputePool pool = new ComputePool(2)) {
                QuantizedMatrix got = JavaQuantizer.quantize(pool, longer, rows, cols, tile[0], tile[1], false);
                String w = "longer buffer in " + tile[0] + "x" + tile[1];
                assertSameScales(got.scales(), want.scales(), w);
                assertSameCodes(got.codes(), want.codes(), x, w);
            }
        }
    }

    @Test
    void nanAndInfFailWithTheReferenceMessage() {
        int rows = 300;
        int cols = 300;
        float[][] bad = new float[4][];
        bad[0] = gaussian(rows * cols, 21);
        bad[0][200 * cols + 150] = Float.NaN;
        bad[1] = gaussian(rows * cols, 22);
        bad[1][299 * cols + 299] = Float.POSITIVE_INFINITY;
        bad[2] = gaussian(rows * cols, 23);
        bad[2][5] = Float.NEGATIVE_INFINITY;
        // Two bad tiles, the later one (in the reference's order) in the first thread's half for the column path.
        bad[3] = gaussian(rows * cols, 24);
        bad[3][250 * cols + 3] = Float.NaN;
        bad[3][10 * cols + 290] = Float.intBitsToFloat(0xFFC0_0001);
        for (float[] x : bad) {
            for (int[] tile : TILES) {
                Throwable want = catchThrowable(() -> QuantizedMatrix.quantize(x, rows, cols, tile[0], tile[1], true));
                assertThat(want).isInstanceOf(IllegalArgumentException.class);
                for (int t = 1; t <= 2; t++) {
                    try (ComputePool pool = new ComputePool(t)) {
                        assertThatThrownBy(() -> JavaQuantizer.quantize(pool, x, rows, cols, tile[0], tile[1], true))
                                .isInstanceOf(IllegalArgumentException.class).hasMessage(want.getMessage());
                    }
                }
            }
        }
    }

    @Test
    void badArgumentsFailLikeTheReference() {
        float[] x = new float[10];
        ComputePool pool = ComputePool.serial();
        assertThatThrownBy(() -> JavaQuantizer.quantize(pool, x, 4, 4, 1, 128, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("input has 10 elements");
        assertThatThrownBy(() -> JavaQuantizer.quantize(pool, x, 2, 2, 0, 128, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be positive");
        QuantizedMatrix empty = JavaQuantizer.quantize(pool, x, 0, 5, 1, 128, false);
        assertThat(empty.codes()).isEmpty();
        assertThat(empty.scales()).isEmpty();
    }

    @Test
    void dequantizeEqualsReference() {
        for (int[] shape : SHAPES) {
            int rows = shape[0];
            int cols = shape[1];
            float[] x = sparse(rows * cols, 31 + rows);
            for (int[] tile : TILES) {
                QuantizedMatrix q = QuantizedMatrix.quantize(x, rows, cols, tile[0], tile[1], false);
                checkDequantize(q, "quantized " + rows + "x" + cols + " in " + tile[0] + "x" + tile[1]);
            }
        }
        // Every code, NaN codes included, in every lane position.
        int rows = 40;
        int cols = 300;
        byte[] codes = new byte[rows * cols];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) (i * 7 + i / 256);
        }
        SplittableRandom rnd = new SplittableRandom(3);
        for (int[] tile : TILES) {
            float[] scales = new float[((rows + tile[0] - 1) / tile[0]) * ((cols + tile[1] - 1) / tile[1])];
            for (int i = 0; i < scales.length; i++) {
                scales[i] = (float) Math.exp(rnd.nextDouble(-20, 5));
            }
            QuantizedMatrix q = new QuantizedMatrix(rows, cols, tile[0], tile[1], codes, scales);
            checkDequantize(q, "all codes in " + tile[0] + "x" + tile[1]);
        }
    }

    private static void checkDequantize(QuantizedMatrix q, String what) {
        float[] want = q.dequantize();
        float[] got = new float[want.length + 3];
        Arrays.fill(got, 42f);
        JavaQuantizer.dequantize(q, got);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(want[i])) {
                throw new AssertionError(what + ": element " + i + " (code 0x"
                        + Integer.toHexString(q.codes()[i] & 0xFF) + ") is " + got[i] + ", reference " + want[i]);
            }
        }
        assertThat(got[want.length]).isEqualTo(42f);
    }

    /**
     * Independent of the reference encoder: decode(code)·s equals (nearest E4M3 value of x/s)·s, the nearest
     * found by brute force over the grid of the spec's OCP table (2^(E−7)·(1 + M/8), subnormals 2^−6·M/8, max
     * 448), ties to the even code, saturating.
     */
    @Test
    void codesAreTheNearestGridValues() {
        double[] grid = new double[0x7F];
        for (int c = 0; c < grid.length; c++) {
            int e = c >>> 3;
            int m = c & 7;
            grid[c] = e == 0 ? Math.scalb(m / 8.0, -6) : Math.scalb(1 + m / 8.0, e - 7);
        }
        assertThat(grid[0x7E]).isEqualTo(448.0);
        int rows = 256;
        int cols = 384;
        float[][] inputs = {lognormal(rows * cols, 41), sparse(rows * cols, 42), gaussian(rows * cols, 43)};
        try (ComputePool pool = new ComputePool(2)) {
            for (float[] x : inputs) {
                for (int[] tile : new int[][] {{1, 128}, {128, 1}, {128, 128}}) {
                    for (boolean pow2 : new boolean[] {false, true}) {
                        QuantizedMatrix q = JavaQuantizer.quantize(pool, x, rows, cols, tile[0], tile[1], pow2);
                        for (int i = 0; i < x.length; i += 3) {
                            int r = i / cols;
                            int c = i % cols;
                            float s = q.scale(r / tile[0], c / tile[1]);
                            float v = x[i] / s;
                            double a = Math.abs((double) v);
                            int best = 0;
                            for (int k = 1; k < grid.length; k++) {
                                double dk = Math.abs(grid[k] - a);
                                double db = Math.abs(grid[best] - a);
                                if (dk < db || (dk == db && (k & 1) == 0)) {
                                    best = k;
                                }
                            }
                            float nearest = (float) (Math.copySign(grid[best], v) * 1.0);
                            float want = nearest * s;
                            float got = q.get(r, c);
                            if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(want)) {
                                throw new AssertionError("x=" + x[i] + " s=" + s + " v=" + v + ": got " + got
                                        + " want " + want + " in " + tile[0] + "x" + tile[1]);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Prints GB/s of fp32 input (4 bytes per element) for the reference and this class, after warm-up, at 1 and 2
     * threads (the reference always runs on one), and of fp32 output for dequantize. Thread CPU time would be
     * steadier on a shared machine, but the 2-thread figure needs wall time; the best of the second half is kept.
     */
    @Test
    void printsThroughputBesideReference() {
        int[][] cases = {{2048, 512, 1, 128}, {2048, 512, 128, 1}, {512, 256, 128, 128}};
        float sink = 0;
        for (int threads : new int[] {1, 2}) {
            try (ComputePool pool = new ComputePool(threads)) {
                for (int[] cs : cases) {
                    int rows = cs[0];
                    int cols = cs[1];
                    float[] x = gaussian(rows * cols, 51);
                    float[] back = new float[rows * cols];
                    double bytes = 4.0 * rows * cols;
                    double refBest = Double.MAX_VALUE;
                    double vecBest = Double.MAX_VALUE;
                    double deqRefBest = Double.MAX_VALUE;
                    double deqBest = Double.MAX_VALUE;
                    int reps = 60;
                    for (int rep = 0; rep < reps; rep++) {
                        boolean ref = threads == 1 || rep % 4 == 0;
                        long t0 = System.nanoTime();
                        QuantizedMatrix r = ref ? QuantizedMatrix.quantize(x, rows, cols, cs[2], cs[3], false) : null;
                        long t1 = System.nanoTime();
                        QuantizedMatrix v = JavaQuantizer.quantize(pool, x, rows, cols, cs[2], cs[3], false);
                        long t2 = System.nanoTime();
                        float[] d = ref ? v.dequantize() : null;
                        long t3 = System.nanoTime();
                        JavaQuantizer.dequantize(v, back);
                        long t4 = System.nanoTime();
                        sink += v.scales()[rep % v.scales().length] + back[rep] + (r == null ? 0 : r.scales()[0] + d[0]);
                        if (rep >= reps / 2) {
                            if (ref) {
                                refBest = Math.min(refBest, (t1 - t0) * 1e-9);
                                deqRefBest = Math.min(deqRefBest, (t3 - t2) * 1e-9);
                            }
                            vecBest = Math.min(vecBest, (t2 - t1) * 1e-9);
                            deqBest = Math.min(deqBest, (t4 - t3) * 1e-9);
                        }
                    }
                    double ref = bytes / refBest * 1e-9;
                    double vec = bytes / vecBest * 1e-9;
                    System.out.printf("JavaQuantizer.quantize %dx%d in %dx%d, %d thread(s): %.2f GB/s; reference"
                            + " (1 thread): %.2f GB/s; ratio %.1f (VL=%d)%n", rows, cols, cs[2], cs[3], threads, vec,
                            ref, vec / ref, JavaQuantizer.VL);
                    if (threads == 1) {
                        System.out.printf("JavaQuantizer.dequantize %dx%d in %dx%d: %.2f GB/s of output;"
                                + " QuantizedMatrix.dequantize: %.2f GB/s; ratio %.1f%n", rows, cols, cs[2], cs[3],
                                bytes / deqBest * 1e-9, bytes / deqRefBest * 1e-9, deqRefBest / deqBest);
                    }
                }
            }
        }
        assertThat(Float.isNaN(sink)).isFalse();
    }

    private static Throwable catchThrowable(Runnable r) {
        try {
            r.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }
}
