package io.sparkseek.model.layer;

import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.fp8.QuantizedMatrix;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.kernel.JavaBackend;
import io.sparkseek.model.kernel.JavaQuantizer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reused quantization buffers change no bits: quantizing into longer buffers full of stale values gives the codes
 * and scales of a fresh quantization, and an FP8 Linear that ran a larger batch first (its buffers grown and
 * dirty) gives the bits of a fresh Linear on the smaller batch.
 */
class Fp8LinearReuseTest {
    private static final int IN = 200;    // ragged 1×128 tiles and 128×128 blocks
    private static final int OUT = 150;

    private static float[] random(Random rnd, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian()));
        }
        return a;
    }

    @Test
    void quantizeIntoDirtyLongerBuffersMatchesQuantize() {
        Random rnd = new Random(7);
        float[] x = random(rnd, 300 * IN);
        try (ComputePool pool = new ComputePool(2)) {
            for (int[] tile : new int[][] {{1, 128}, {128, 1}, {128, 128}, {2, 3}}) {
                for (int rows : new int[] {300, 130, 1}) {
                    byte[] codes = new byte[300 * IN + 17];
                    float[] scales = new float[300 * IN + 17];
                    Arrays.fill(codes, (byte) 0x55);
                    Arrays.fill(scales, Float.NaN);
                    QuantizedMatrix fresh = JavaQuantizer.quantize(pool, x, rows, IN, tile[0], tile[1], false);
                    QuantizedMatrix view = JavaQuantizer.quantizeInto(pool, x, rows, IN, tile[0], tile[1], false,
                            codes, scales);
                    assertThat(Arrays.copyOf(view.codes(), rows * IN)).isEqualTo(fresh.codes());
                    assertThat(Arrays.copyOf(view.scales(), fresh.scales().length)).isEqualTo(fresh.scales());
                    assertThat(view.dequantize()).isEqualTo(fresh.dequantize());
                }
            }
        }
    }

    @Test
    void linearAfterLargerBatchGivesFreshBits() {
        Random rnd = new Random(11);
        float[] w0 = random(rnd, OUT * IN);
        float[] big = random(rnd, 300 * IN);
        float[] bigDy = random(rnd, 300 * OUT);
        float[] x = random(rnd, 130 * IN);
        float[] dy = random(rnd, 130 * OUT);
        PrecisionPolicy policy = PrecisionPolicy.fp8(JavaBackend.INSTANCE);
        for (Linear.InputCache cache : Linear.InputCache.values()) {
            Param pReused = new Param("reused", OUT, IN);
            Param pFresh = new Param("fresh", OUT, IN);
            System.arraycopy(w0, 0, pReused.w(), 0, w0.length);
            System.arraycopy(w0, 0, pFresh.w(), 0, w0.length);
            Linear reused = new Linear(pReused, policy, cache);
            Linear fresh = new Linear(pFresh, policy, cache);
            try (ComputePool pool = new ComputePool(2)) {
                reused.forward(pool, big, 300);
                reused.backward(pool, bigDy, 300);
                Arrays.fill(pReused.g(), 0f);
                float[] y = reused.forward(pool, x, 130).clone();
                float[] dx = reused.backward(pool, dy, 130).clone();
                float[] yFresh = fresh.forward(pool, x, 130).clone();
                float[] dxFresh = fresh.backward(pool, dy, 130).clone();
                assertThat(Arrays.copyOf(y, 130 * OUT)).isEqualTo(Arrays.copyOf(yFresh, 130 * OUT));
                assertThat(Arrays.copyOf(dx, 130 * IN)).isEqualTo(Arrays.copyOf(dxFresh, 130 * IN));
                assertThat(pReused.g()).isEqualTo(pFresh.g());
            }
        }
    }
}
