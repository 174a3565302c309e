package io.sparkseek.model.layer;

import io.sparkseek.model.kernel.ComputePool;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.sparkseek.model.layer.ScalarMoeReference.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RouterTest {
    private static final ComputePool SERIAL = ComputePool.serial();

    /** A router whose gate weight is zero, so every s is exactly σ(0) = 0.5 and c = 0.5 + bias. */
    private static int[] routeByBias(int e, int k, int g, int gk, float[] bias) {
        Router r = new Router("m", 3, e, k, g, gk, true, 1f);
        System.arraycopy(bias, 0, r.bias(), 0, e);
        r.forward(SERIAL, new float[3], 1);
        return Arrays.copyOf(r.topIndex(), k);
    }

    @Test
    void bestExpertInALosingGroupIsNotChosen() {
        // c = 0.5 + b = [0.95, 0.0 | 0.5, 0.48 | 0.6, 0.45 | 0.1, 0.1]; group scores 0.95, 0.98, 1.05, 0.2
        // → groups 2 and 1 kept; expert 0 (the best single score) is excluded; top-2 of {2,3,4,5} = 4, 2
        float[] b = {0.45f, -0.5f, 0f, -0.02f, 0.1f, -0.05f, -0.4f, -0.4f};
        assertArrayEquals(new int[] {4, 2}, routeByBias(8, 2, 4, 2, b));
        // with all groups kept the best single expert wins
        assertArrayEquals(new int[] {0, 4}, routeByBias(8, 2, 4, 4, b));
    }

    @Test
    void equalScoresGoToTheLowerIndex() {
        // all c equal: groups 0, 1 kept (all group scores 1.0), experts 0, 1, 2
        assertArrayEquals(new int[] {0, 1, 2}, routeByBias(8, 3, 4, 2, new float[8]));
        // c[3] = c[5] = 0.7, two groups of 4, both kept
        float[] b = {0f, 0f, 0f, 0.2f, 0f, 0.2f, 0f, 0f};
        assertArrayEquals(new int[] {3, 5}, routeByBias(8, 2, 2, 2, b));
        assertArrayEquals(new int[] {3}, routeByBias(8, 1, 2, 2, b));
        // equal group scores 0.6 + 0.5 (group 1) and 0.5 + 0.6 (group 3): group 1 wins, then expert 2
        float[] gb = {0f, 0f, 0.1f, 0f, 0f, 0f, 0f, 0.1f};
        assertArrayEquals(new int[] {2}, routeByBias(8, 1, 4, 1, gb));
    }

    @Test
    void negativeAllowedScoresStillBeatMaskedExperts() {
        // c = [-2.5, -2.5 | -1.0, -1.2 | -0.9, -1.5 | -4, -4]; group scores -5, -2.2, -2.4, -8 → groups 1, 2.
        // With −∞ masking the choice is 4, 2; HF's 0.0 masking would pick the excluded experts 0, 1.
        float[] b = {-3f, -3f, -1.5f, -1.7f, -1.4f, -2f, -4.5f, -4.5f};
        Router r = new Router("m", 3, 8, 2, 4, 2, true, 2.5f);
        System.arraycopy(b, 0, r.bias(), 0, 8);
        r.forward(SERIAL, new float[3], 1);
        assertArrayEquals(new int[] {4, 2}, Arrays.copyOf(r.topIndex(), 2));
        // weights from the unbiased s = 0.5 each: 0.5 / 1.0 · 2.5
        assertArrayEquals(new float[] {1.25f, 1.25f}, Arrays.copyOf(r.topWeight(), 2), 1e-6f);
    }

    /** Router with identity gate (H = E) and input logit(s), so the affinities are the given s. */
    private static Router identityRouter(double[] s, float[] bias, boolean norm, float rho) {
        int e = s.length;
        Router r = new Router("m", e, e, 2, 1, 1, norm, rho);
        for (int i = 0; i < e; i++) {
            r.weight().w()[i * e + i] = 1f;
        }
        System.arraycopy(bias, 0, r.bias(), 0, e);
        float[] x = new float[e];
        for (int i = 0; i < e; i++) {
            x[i] = (float) Math.log(s[i] / (1 - s[i]));
        }
        r.forward(SERIAL, x, 1);
        return r;
    }

    @Test
    void weightsAreNormalizedUnbiasedAffinitiesTimesScaling() {
        double[] s = {0.2, 0.8, 0.6, 0.4};
        Router r = identityRouter(s, new float[4], true, 2.5f);
        assertArrayEquals(new float[] {0.2f, 0.8f, 0.6f, 0.4f}, Arrays.copyOf(r.scores(), 4), 1e-6f);
        assertArrayEquals(new int[] {1, 2}, Arrays.copyOf(r.topIndex(), 2));
        assertArrayEquals(new float[] {1.4285714f, 1.0714286f}, Arrays.copyOf(r.topWeight(), 2), 1e-6f);  // 0.8/1.4·2.5, 0.6/1.4·2.5

        r = identityRouter(s, new float[4], false, 2.5f);
        assertArrayEquals(new float[] {2.0f, 1.5f}, Arrays.copyOf(r.topWeight(), 2), 1e-6f);

        // the bias changes the choice (c = 0.2, 0.8, 0.6, 0.7) but the weights use the unbiased s (0.8, 0.4)
        r = identityRouter(s, new float[] {0f, 0f, 0f, 0.3f}, true, 2.5f);
        assertArrayEquals(new int[] {1, 3}, Arrays.copyOf(r.topIndex(), 2));
        assertArrayEquals(new float[] {1.6666666f, 0.8333333f}, Arrays.copyOf(r.topWeight(), 2), 1e-6f);
    }

    @Test
    void rejectsImpossibleRoutingConfigs() {
        assertThrows(IllegalArgumentException.class, () -> new Router("m", 4, 8, 2, 3, 1, true, 1f));
        assertThrows(IllegalArgumentException.class, () -> new Router("m", 4, 8, 2, 4, 5, true, 1f));
        assertThrows(IllegalArgumentException.class, () -> new Router("m", 4, 8, 5, 4, 2, true, 1f));
    }

    private static final MoeShape SHAPE = new MoeShape(10, 1, 0, 16, 4, 4, 2, true, 2.5f);

    private static Router randomRouter(Random rnd, MoeShape c) {
        Router r = new Router("model.layers.3.mlp", c.hidden(), c.nExperts(), c.topK(), c.nGroup(), c.topkGroup(),
                c.normTopkProb(), c.routedScalingFactor());
        fillGaussian(r.weight().w(), rnd, 0.5);
        fillGaussian(r.bias(), rnd, 0.1);
        return r;
    }

    @Test
    void forwardMatchesScalarReference() {
        Random rnd = new Random(3);
        Router r = randomRouter(rnd, SHAPE);
        int n = 20;
        float[] x = gaussian(n * SHAPE.hidden(), rnd, 1.0);
        r.forward(new ComputePool(3), x, n);
        double[] w = toDouble(r.weight().w());
        double[] b = toDouble(r.bias());
        double[] xd = toDouble(x);
        int k = SHAPE.topK();
        for (int t = 0; t < n; t++) {
            Route ref = route(xd, t * SHAPE.hidden(), w, b, SHAPE);
            assertArrayEquals(ref.chosen(), Arrays.copyOfRange(r.topIndex(), t * k, t * k + k), "token " + t);
            for (int q = 0; q < k; q++) {
                assertEquals(ref.weights()[q], r.topWeight()[t * k + q], 1e-6 * Math.abs(ref.weights()[q]));
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesWithSelectionFixed() {
        for (boolean norm : new boolean[] {true, false}) {
            MoeShape c = new MoeShape(10, 1, 0, 16, 4, 4, 2, norm, 2.5f);
            Random rnd = new Random(4);
            Router r = randomRouter(rnd, c);
            int n = 9;
            int e = c.nExperts();
            int k = c.topK();
            float[] x = gaussian(n * c.hidden(), rnd, 1.0);
            float[] rw = gaussian(n * k, rnd, 1.0);      // L = Σ topWeight ⊙ rw + Σ s ⊙ rs
            float[] rs = gaussian(n * e, rnd, 1.0);
            r.forward(SERIAL, x, n);
            int[] sel = Arrays.copyOf(r.topIndex(), n * k);
            float[] dx = r.backward(SERIAL, rw, rs, n);

            double[] w = toDouble(r.weight().w());
            double[] b = toDouble(r.bias());
            double[] xd = toDouble(x);
            int[] flips = {0};
            Loss loss = () -> {
                double l = 0;
                for (int t = 0; t < n; t++) {
                    Route ref = route(xd, t * c.hidden(), w, b, c);
                    if (!Arrays.equals(ref.chosen(), Arrays.copyOfRange(sel, t * k, t * k + k))) {
                        flips[0]++;
                    }
                    for (int q = 0; q < k; q++) {
                        l += ref.weights()[q] * rw[t * k + q];
                    }
                    for (int i = 0; i < e; i++) {
                        l += ref.s()[i] * rs[t * e + i];
                    }
                }
                return l;
            };
            Map<String, double[]> fd = new LinkedHashMap<>();
            fd.put("gate.weight", finiteDifferences(w, loss));
            fd.put("x", finiteDifferences(xd, loss));
            Map<String, float[]> an = Map.of("gate.weight", r.weight().g(), "x", dx);
            assertEquals(0, flips[0], "selection flipped under the perturbation");
            List<String> bad = compare(an, fd, 1e-3);
            assertTrue(bad.isEmpty(), "norm=" + norm + ": " + String.join("\n", bad));
        }
    }
}
