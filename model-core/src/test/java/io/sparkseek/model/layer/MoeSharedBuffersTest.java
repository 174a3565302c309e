package io.sparkseek.model.layer;

import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.kernel.JavaBackend;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static io.sparkseek.model.layer.ScalarMoeReference.fillGaussian;
import static io.sparkseek.model.layer.ScalarMoeReference.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FP32 routed experts on slices of one layer-wide {@link ExpertBuffers}: the same bits as the per-expert buffers
 * (the path FP8 experts still take), over training steps whose expert loads shift a lot, and no reallocation once
 * the buffers hold n·K rows.
 */
class MoeSharedBuffersTest {
    private static final String PREFIX = "model.layers.1.mlp";
    private static final MoeShape SHAPE = new MoeShape(16, 12, 1, 8, 3, 4, 2, true, 2.5f);

    @Test
    void shiftingLoadsGiveSameBitsAsPerExpertBuffersWithoutReallocation() {
        Random rnd = new Random(5);
        MoE shared = new MoE(PREFIX, SHAPE, 0.01f, PrecisionPolicy.FP32, true);
        MoE perExpert = new MoE(PREFIX, SHAPE, 0.01f, PrecisionPolicy.FP32, false);
        assertEquals(null, perExpert.expertBuffers());
        List<Param> ps = shared.params();
        List<Param> qs = perExpert.params();
        for (int i = 0; i < ps.size(); i++) {
            fillGaussian(ps.get(i).w(), rnd, ps.get(i).name().endsWith("gate.weight") ? 0.5 : 0.3);
            System.arraycopy(ps.get(i).w(), 0, qs.get(i).w(), 0, ps.get(i).w().length);
        }
        int seqLen = 10;
        int[] batches = {4, 4, 2, 4, 3, 4, 1, 4};   // sequences per step: n·K reaches its maximum in step 0
        float[][] arrays = null;
        int[] maxLoad = new int[SHAPE.nExperts()];
        try (ComputePool pool = new ComputePool(3)) {
            for (int step = 0; step < batches.length; step++) {
                // a rotating third of the experts gets a large routing bias: most tokens go to them
                float[] bias = new float[SHAPE.nExperts()];
                for (int j = 0; j < bias.length; j++) {
                    bias[j] = (j + step * 3) % 8 < 3 ? 2f : 0f;
                }
                System.arraycopy(bias, 0, shared.router().bias(), 0, bias.length);
                System.arraycopy(bias, 0, perExpert.router().bias(), 0, bias.length);
                int n = batches[step] * seqLen;
                float[] x = gaussian(n * SHAPE.hidden(), rnd, 1.0);
                float[] dy = gaussian(n * SHAPE.hidden(), rnd, 1.0);

                float[] y = shared.forward(pool, x, n, seqLen);
                float[] yRef = perExpert.forward(pool, x, n, seqLen);
                assertArrayEquals(Arrays.copyOf(yRef, n * SHAPE.hidden()), Arrays.copyOf(y, n * SHAPE.hidden()),
                        "y, step " + step);
                assertEquals(perExpert.balanceLoss(), shared.balanceLoss(), 0.0, "balance loss, step " + step);
                assertArrayEquals(perExpert.load(), shared.load(), "loads, step " + step);
                for (int j = 0; j < maxLoad.length; j++) {
                    maxLoad[j] = Math.max(maxLoad[j], shared.load()[j]);
                }
                float[] dx = shared.backward(pool, dy, n);
                float[] dxRef = perExpert.backward(pool, dy, n);
                assertArrayEquals(Arrays.copyOf(dxRef, n * SHAPE.hidden()), Arrays.copyOf(dx, n * SHAPE.hidden()),
                        "dx, step " + step);
                for (int i = 0; i < ps.size(); i++) {
                    assertArrayEquals(qs.get(i).g(), ps.get(i).g(), ps.get(i).name() + " grad, step " + step);
                }
                // SGD step, the same on both, so later steps see trained weights
                for (int i = 0; i < ps.size(); i++) {
                    float[] w = ps.get(i).w();
                    float[] g = ps.get(i).g();
                    for (int q = 0; q < w.length; q++) {
                        w[q] -= 0.05f * g[q];
                    }
                    System.arraycopy(w, 0, qs.get(i).w(), 0, w.length);
                    Arrays.fill(g, 0f);
                    Arrays.fill(qs.get(i).g(), 0f);
                }

                ExpertBuffers b = shared.expertBuffers();
                assertNotNull(b);
                assertEquals(1, b.allocations(), "allocations after step " + step);
                assertEquals(4 * seqLen * SHAPE.topK(), b.rows(), "rows: n·K of the largest batch");
                float[][] now = {b.x, b.y, b.dy, b.dx, b.a, b.u, b.sig, b.h, b.dh, b.da};
                if (arrays == null) {
                    arrays = now;
                }
                for (int q = 0; q < now.length; q++) {
                    assertSame(arrays[q], now[q], "buffer " + q + " reallocated in step " + step);
                }
            }
        }
        // the loads did shift: every expert was among the busiest at some step
        for (int j = 0; j < maxLoad.length; j++) {
            assertTrue(maxLoad[j] > 4 * seqLen * SHAPE.topK() / SHAPE.nExperts(), "expert " + j + " max load "
                    + maxLoad[j]);
        }
    }

    @Test
    void growsOnlyWithTokensTimesTopK() {
        MoE moe = new MoE(PREFIX, SHAPE, 0f);
        Random rnd = new Random(9);
        for (Param p : moe.params()) {
            fillGaussian(p.w(), rnd, 0.3);
        }
        try (ComputePool pool = new ComputePool(2)) {
            for (int n : new int[] {8, 8, 24, 16, 24, 8}) {
                moe.forward(pool, gaussian(n * SHAPE.hidden(), rnd, 1.0), n, 8);
                moe.backward(pool, gaussian(n * SHAPE.hidden(), rnd, 1.0), n);
            }
        }
        assertEquals(2, moe.expertBuffers().allocations());
        assertEquals(24 * SHAPE.topK(), moe.expertBuffers().rows());
        assertEquals(null, new MoE(PREFIX, SHAPE, 0f, PrecisionPolicy.fp8(JavaBackend.INSTANCE), true).expertBuffers());
    }
}
