package io.sparkseek.model.layer;

import io.sparkseek.model.kernel.ComputePool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static io.sparkseek.model.layer.ScalarMoeReference.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MoETest {
    private static final String PREFIX = "model.layers.3.mlp";

    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of(new MoeShape(8, 6, 1, 8, 2, 4, 2, true, 2.5f)),
                Arguments.of(new MoeShape(8, 5, 2, 16, 4, 4, 2, true, 1f)),
                Arguments.of(new MoeShape(8, 6, 1, 8, 2, 4, 2, false, 1.5f)),
                Arguments.of(new MoeShape(8, 5, 2, 16, 4, 4, 2, false, 2.5f)),
                Arguments.of(new MoeShape(8, 4, 0, 6, 3, 1, 1, true, 1f)));
    }

    private static MoE randomMoe(Random rnd, MoeShape c, float alpha) {
        MoE moe = new MoE(PREFIX, c, alpha);
        for (Param p : moe.params()) {
            fillGaussian(p.w(), rnd, p.name().endsWith("gate.weight") ? 0.5 : 0.3);
        }
        fillGaussian(moe.router().bias(), rnd, 0.1);
        return moe;
    }

    @ParameterizedTest
    @MethodSource("configs")
    void forwardMatchesBruteForcePerTokenReference(MoeShape c) {
        Random rnd = new Random(11);
        MoE moe = randomMoe(rnd, c, 0.01f);
        int seqLen = 12;
        int n = 3 * seqLen;
        float[] x = gaussian(n * c.hidden(), rnd, 1.0);
        float[] y;
        try (ComputePool pool = new ComputePool(3)) {
            y = moe.forward(pool, x, n, seqLen);
        }
        MoeResult ref = moe(PREFIX, weights(moe.params()), toDouble(moe.router().bias()), c, 0.01, toDouble(x), n, seqLen);
        int k = c.topK();
        assertArrayEquals(ref.selection(), Arrays.copyOf(moe.router().topIndex(), n * k), "selection");
        double err = relError(y, ref.y(), n * c.hidden());
        assertTrue(err < 1e-5, "rel error " + err);
        assertEquals(ref.balanceLoss(), moe.balanceLoss(), 1e-6 * ref.balanceLoss());
        int[] counts = new int[c.nExperts()];
        for (int j : ref.selection()) {
            counts[j]++;
        }
        assertArrayEquals(counts, moe.load());
    }

    @Test
    void paramsFollowHfNamesAndOrder() {
        List<String> names = new ArrayList<>();
        for (Param p : new MoE(PREFIX, new MoeShape(4, 3, 2, 2, 1, 1, 1, true, 1f), 0f).params()) {
            names.add(p.toString());
        }
        assertEquals(List.of(
                "model.layers.3.mlp.gate.weight[2, 4]",
                "model.layers.3.mlp.experts.0.gate_proj.weight[3, 4]",
                "model.layers.3.mlp.experts.0.up_proj.weight[3, 4]",
                "model.layers.3.mlp.experts.0.down_proj.weight[4, 3]",
                "model.layers.3.mlp.experts.1.gate_proj.weight[3, 4]",
                "model.layers.3.mlp.experts.1.up_proj.weight[3, 4]",
                "model.layers.3.mlp.experts.1.down_proj.weight[4, 3]",
                "model.layers.3.mlp.shared_experts.gate_proj.weight[6, 4]",
                "model.layers.3.mlp.shared_experts.up_proj.weight[6, 4]",
                "model.layers.3.mlp.shared_experts.down_proj.weight[4, 6]"), names);
    }

    static Stream<Arguments> gradConfigs() {
        return Stream.of(
                Arguments.of(new MoeShape(6, 4, 1, 8, 2, 4, 2, true, 2.5f), 0.3f, true),
                Arguments.of(new MoeShape(6, 3, 2, 16, 4, 4, 2, false, 1.5f), 0.3f, true),
                Arguments.of(new MoeShape(6, 3, 2, 16, 4, 4, 2, true, 1f), 0f, true),
                // R = 0: the balance loss is the whole objective
                Arguments.of(new MoeShape(6, 4, 1, 8, 2, 4, 2, true, 2.5f), 1f, false));
    }

    @ParameterizedTest
    @MethodSource("gradConfigs")
    void backwardMatchesFiniteDifferencesIncludingBalanceLoss(MoeShape c, float alpha, boolean withOutputLoss) {
        Random rnd = new Random(21);
        MoE moe = randomMoe(rnd, c, alpha);
        int seqLen = 5;
        int n = 2 * seqLen;
        int h = c.hidden();
        float[] x = gaussian(n * h, rnd, 1.0);
        float[] r = withOutputLoss ? gaussian(n * h, rnd, 1.0) : new float[n * h];
        float[] dx;
        try (ComputePool pool = new ComputePool(2)) {
            moe.forward(pool, x, n, seqLen);
            dx = moe.backward(pool, r, n);
        }
        int[] sel = Arrays.copyOf(moe.router().topIndex(), n * c.topK());

        Map<String, double[]> w = weights(moe.params());
        double[] bias = toDouble(moe.router().bias());
        double[] xd = toDouble(x);
        double[] rd = toDouble(r);
        int[] flips = {0};
        Loss loss = () -> {
            MoeResult res = moe(PREFIX, w, bias, c, alpha, xd, n, seqLen);
            if (!Arrays.equals(res.selection(), sel)) {
                flips[0]++;
            }
            return dot(res.y(), rd) + res.balanceLoss();
        };
        Map<String, double[]> fd = new LinkedHashMap<>();
        Map<String, float[]> an = new LinkedHashMap<>();
        for (Param p : moe.params()) {
            boolean expertParam = !p.name().endsWith("mlp.gate.weight");
            if (!withOutputLoss && expertParam) {
                for (float v : p.g()) {
                    assertEquals(0f, v, p.name() + " gets gradient from the balance loss");
                }
                continue;
            }
            fd.put(p.name(), finiteDifferences(w.get(p.name()), loss));
            an.put(p.name(), p.g());
        }
        fd.put("x", finiteDifferences(xd, loss));
        an.put("x", dx);
        assertEquals(0, flips[0], "selection flipped under the perturbation");
        // experts that got no token have zero gradient in both; compare only the others
        for (int j = 0; j < c.nExperts(); j++) {
            if (moe.load()[j] == 0) {
                for (String m : new String[] {"gate_proj", "up_proj", "down_proj"}) {
                    String name = PREFIX + ".experts." + j + "." + m + ".weight";
                    if (fd.remove(name) != null) {
                        for (float v : an.remove(name)) {
                            assertEquals(0f, v, name);
                        }
                    }
                }
            }
        }
        List<String> bad = compare(an, fd, 1e-3);
        assertTrue(bad.isEmpty(), String.join("\n", bad));
        if (alpha > 0) {
            assertTrue(moe.balanceLoss() > 0);
        } else {
            assertEquals(0.0, moe.balanceLoss());
        }
    }

    /** Forward + backward of a fresh copy (same seed) with the given thread count: y, dx, balance loss, grads. */
    private static List<float[]> run(int threads, MoeShape c, int n, int seqLen) {
        Random rnd = new Random(31);
        MoE moe = randomMoe(rnd, c, 0.05f);
        float[] x = gaussian(n * c.hidden(), rnd, 1.0);
        float[] r = gaussian(n * c.hidden(), rnd, 1.0);
        List<float[]> out = new ArrayList<>();
        try (ComputePool pool = new ComputePool(threads)) {
            out.add(Arrays.copyOf(moe.forward(pool, x, n, seqLen), n * c.hidden()));
            out.add(new float[] {(float) moe.balanceLoss()});
            out.add(Arrays.copyOf(moe.backward(pool, r, n), n * c.hidden()));
        }
        for (Param p : moe.params()) {
            out.add(p.g().clone());
        }
        return out;
    }

    @Test
    void forwardAndBackwardAreBitIdenticalForAnyThreadCount() {
        MoeShape c = new MoeShape(16, 8, 1, 16, 4, 4, 2, true, 2.5f);
        List<float[]> one = run(1, c, 96, 32);
        for (int threads : new int[] {2, 5}) {
            List<float[]> many = run(threads, c, 96, 32);
            for (int i = 0; i < one.size(); i++) {
                assertArrayEquals(one.get(i), many.get(i), "tensor " + i + " with " + threads + " threads");
            }
        }
    }

    @Test
    void buffersAreReusedAcrossBatchSizes() {
        MoeShape c = new MoeShape(8, 6, 1, 8, 2, 4, 2, true, 2.5f);
        Random rnd = new Random(41);
        MoE moe = randomMoe(rnd, c, 0f);
        float[] big = gaussian(40 * c.hidden(), rnd, 1.0);
        float[] small = gaussian(8 * c.hidden(), rnd, 1.0);
        ComputePool pool = ComputePool.serial();
        float[] ySmallFresh = Arrays.copyOf(moe.forward(pool, small, 8, 8), 8 * c.hidden());
        moe.forward(pool, big, 40, 8);
        float[] ySmall = moe.forward(pool, small, 8, 8);
        assertArrayEquals(ySmallFresh, Arrays.copyOf(ySmall, 8 * c.hidden()));
        int total = Arrays.stream(moe.load()).sum();
        assertEquals(8 * c.topK(), total);
    }

    @Test
    void rejectsRaggedSequences() {
        MoE moe = new MoE(PREFIX, new MoeShape(4, 3, 1, 4, 2, 2, 1, true, 1f), 0.1f);
        assertThrows(IllegalArgumentException.class, () -> moe.forward(ComputePool.serial(), new float[28], 7, 3));
    }
}
