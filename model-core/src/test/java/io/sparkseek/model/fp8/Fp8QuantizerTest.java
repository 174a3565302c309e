package io.sparkseek.model.fp8;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Checks {@link QuantizedMatrix}, {@link BlockQuantizer} and {@link TileQuantizer} (spec §8.2, §8.5, §9.3, §15.2)
 * against scales and E4M3 codes computed here independently (amax per tile, brute-force nearest E4M3 code).
 */
class Fp8QuantizerTest {

    /** E4M3 value of a non-negative finite code 0..0x7E from the OCP formula. */
    private static double e4m3(int code) {
        int exp = code >>> 3;
        int man = code & 7;
        return exp == 0 ? man * Math.pow(2, -9) : Math.pow(2, exp - 7) * (1 + man / 8.0);
    }

    /** Saturating RNE to E4M3 by brute force: nearest code, exact ties to the even code. */
    private static int nearestE4m3(float x) {
        double a = Math.abs((double) x);
        int best = 0;
        double bestDist = Double.POSITIVE_INFINITY;
        for (int c = 0; c <= 0x7E; c++) {
            double d = Math.abs(e4m3(c) - a);
            if (d < bestDist || (d == bestDist && (c & 1) == 0)) {
                best = c;
                bestDist = d;
            }
        }
        return (Float.floatToRawIntBits(x) >>> 31) == 1 ? best | 0x80 : best;
    }

    private static float[] random(int n, long seed, float range) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((rnd.nextDouble() * 2 - 1) * range * Math.pow(10, rnd.nextInt(-3, 2)));
        }
        return x;
    }

    /** Independent check of every scale and code of {@code q} for input {@code x}. */
    private static void checkAgainstOracle(QuantizedMatrix q, float[] x, boolean pow2) {
        int rows = q.rows();
        int cols = q.cols();
        int tr = q.tileRows();
        int tc = q.tileCols();
        assertThat(q.scaleRows()).isEqualTo((rows + tr - 1) / tr);
        assertThat(q.scaleCols()).isEqualTo((cols + tc - 1) / tc);
        float[] deq = q.dequantize();
        for (int br = 0; br < q.scaleRows(); br++) {
            for (int bc = 0; bc < q.scaleCols(); bc++) {
                float amax = 0;
                for (int r = br * tr; r < Math.min(rows, (br + 1) * tr); r++) {
                    for (int c = bc * tc; c < Math.min(cols, (bc + 1) * tc); c++) {
                        amax = Math.max(amax, Math.abs(x[r * cols + c]));
                    }
                }
                float plain = Math.max(amax, 1e-4f) / 448f;
                float s = q.scale(br, bc);
                if (pow2) {
                    assertThat(Float.floatToRawIntBits(s) & 0x7FFFFF).as("power of two").isZero();
                    assertThat(s).isGreaterThanOrEqualTo(plain);
                    assertThat(s / 2).isLessThan(plain);
                } else {
                    assertThat(s).isEqualTo(plain);
                }
                for (int r = br * tr; r < Math.min(rows, (br + 1) * tr); r++) {
                    for (int c = bc * tc; c < Math.min(cols, (bc + 1) * tc); c++) {
                        int i = r * cols + c;
                        int code = q.codes()[i] & 0xFF;
                        assertThat(code).as("code at (%d, %d)", r, c).isEqualTo(nearestE4m3(x[i] / s));
                        float want = (float) (((code & 0x80) != 0 ? -1 : 1) * e4m3(code & 0x7F)) * s;
                        assertThat(deq[i]).isEqualTo(want);
                        assertThat(q.get(r, c)).isEqualTo(want);
                    }
                }
            }
        }
    }

    @Test
    void raggedWeightGetsTwoByFourBlockScales() {
        float[] w = random(160 * 512, 1, 1f);
        QuantizedMatrix q = BlockQuantizer.quantize(w, 160, 512);
        assertThat(q.scaleRows()).isEqualTo(2);
        assertThat(q.scaleCols()).isEqualTo(4);
        assertThat(q.scales()).hasSize(8);
        checkAgainstOracle(q, w, false);
        QuantizedMatrix p = BlockQuantizer.quantize(w, 160, 512, true);
        checkAgainstOracle(p, w, true);
    }

    @Test
    void kvAProjectionShapeGivesFiveByFiftySix() {
        float[] w = random(576 * 7168, 2, 0.05f);
        QuantizedMatrix q = BlockQuantizer.quantize(w, 576, 7168);
        assertThat(q.scaleRows()).isEqualTo(5);
        assertThat(q.scaleCols()).isEqualTo(56);
        float[] deq = q.dequantize();
        SplittableRandom rnd = new SplittableRandom(3);
        for (int k = 0; k < 10_000; k++) {
            int r = rnd.nextInt(576);
            int c = rnd.nextInt(7168);
            int i = r * 7168 + c;
            float s = q.scale(r / 128, c / 128);
            assertThat(deq[i]).isEqualTo(Fp8Format.E4M3.decode(q.codes()[i] & 0xFF) * s);
            assertThat(q.codes()[i] & 0xFF).isEqualTo(nearestE4m3(w[i] / s));
        }
    }

    @Test
    void allZeroBlockGetsFlooredScaleNotNaN() {
        float[] w = new float[130 * 130];
        w[0] = 3.5f; // block (0,0) non-zero; the other three (ragged) blocks all zero
        QuantizedMatrix q = BlockQuantizer.quantize(w, 130, 130);
        assertThat(q.scale(0, 0)).isEqualTo(3.5f / 448f);
        assertThat(q.scale(0, 1)).isEqualTo(1e-4f / 448f);
        assertThat(q.scale(1, 0)).isEqualTo(1e-4f / 448f);
        assertThat(q.scale(1, 1)).isEqualTo(1e-4f / 448f);
        for (float v : q.dequantize()) {
            assertThat(v).isNotNaN();
        }
        assertThat(q.get(0, 0)).isEqualTo(3.5f);
        assertThat(q.codes()[0] & 0xFF).isEqualTo(0x7E);
        assertThat(q.get(129, 129)).isZero();
        QuantizedMatrix p = BlockQuantizer.quantize(w, 130, 130, true);
        assertThat(p.scale(1, 1)).isEqualTo(QuantizedMatrix.ceilPowerOfTwo(1e-4f / 448f));
    }

    @Test
    void workedExampleOfSpec87() {
        float[] x = new float[QuantizedMatrix.GROUP_SIZE];
        x[0] = 1.0f;
        x[1] = 0.3f;
        x[2] = -3.5f;
        QuantizedMatrix q = TileQuantizer.quantizeRows(x, 1, x.length, false);
        assertThat(q.scale(0, 0)).isEqualTo(0.0078125f);
        assertThat(q.codes()[0] & 0xFF).isEqualTo(0x70);
        assertThat(q.codes()[1] & 0xFF).isEqualTo(0x62);
        assertThat(q.codes()[2] & 0xFF).isEqualTo(0xFE);
        assertThat(q.get(0, 1)).isEqualTo(0.3125f);
        assertThat(q.get(0, 2)).isEqualTo(-3.5f);
        assertThat(TileQuantizer.quantizeRows(x, 1, x.length, true).scale(0, 0)).isEqualTo(0.0078125f);
    }

    @Test
    void rowTilesAlongKWithRaggedEdge() {
        float[] x = random(3 * 300, 4, 2f);
        QuantizedMatrix q = TileQuantizer.quantizeRows(x, 3, 300, false);
        assertThat(q.tileRows()).isEqualTo(1);
        assertThat(q.tileCols()).isEqualTo(128);
        assertThat(q.scaleRows()).isEqualTo(3);
        assertThat(q.scaleCols()).isEqualTo(3);
        checkAgainstOracle(q, x, false);
        checkAgainstOracle(TileQuantizer.quantizeRows(x, 3, 300, true), x, true);
    }

    @Test
    void columnTilesAlongTokensWithRaggedEdge() {
        float[] x = random(200 * 5, 5, 2f);
        QuantizedMatrix q = TileQuantizer.quantizeColumns(x, 200, 5, false);
        assertThat(q.tileRows()).isEqualTo(128);
        assertThat(q.tileCols()).isEqualTo(1);
        assertThat(q.scaleRows()).isEqualTo(2);
        assertThat(q.scaleCols()).isEqualTo(5);
        checkAgainstOracle(q, x, false);
        checkAgainstOracle(TileQuantizer.quantizeColumns(x, 200, 5, true), x, true);
    }

    @Test
    void powerOfTwoRoundingIsUpward() {
        assertThat(QuantizedMatrix.ceilPowerOfTwo(0.0078125f)).isEqualTo(0.0078125f);
        assertThat(QuantizedMatrix.ceilPowerOfTwo(Math.nextUp(0.0078125f))).isEqualTo(0.015625f);
        assertThat(QuantizedMatrix.ceilPowerOfTwo(3f)).isEqualTo(4f);
        assertThat(QuantizedMatrix.ceilPowerOfTwo(Math.nextDown(1f))).isEqualTo(1f);
        assertThatThrownBy(() -> QuantizedMatrix.ceilPowerOfTwo(0f)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsBadShapes() {
        assertThatThrownBy(() -> BlockQuantizer.quantize(new float[10], 3, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected [3, 4]");
        assertThatThrownBy(() -> new QuantizedMatrix(2, 2, 128, 128, new byte[4], new float[2]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scales has 2 entries");
        QuantizedMatrix q = BlockQuantizer.quantize(new float[4], 2, 2);
        assertThatThrownBy(() -> q.get(2, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> q.scale(0, 1)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
