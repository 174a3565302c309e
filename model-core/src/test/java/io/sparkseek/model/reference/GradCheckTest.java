package io.sparkseek.model.reference;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Self-test of {@link GradCheck} on a function with a known gradient; needs no production code. */
class GradCheckTest {

    private static final int SMALL = 10;
    private static final int LARGE = 200;

    private final double[] a = new double[SMALL];
    private final double[] b = new double[LARGE];

    GradCheckTest() {
        Random rnd = new Random(7);
        for (int i = 0; i < SMALL; i++) {
            a[i] = rnd.nextGaussian();
        }
        for (int j = 0; j < LARGE; j++) {
            b[j] = 0.3 * rnd.nextGaussian();
        }
        b[17] = 3.0; // one clearly largest gradient entry
    }

    /** L = Σ_i sin(a_i)·a_{i+1 mod n} + Σ_j b_j³/3 · a_{j mod n}. */
    private double loss() {
        double l = 0;
        for (int i = 0; i < SMALL; i++) {
            l += Math.sin(a[i]) * a[(i + 1) % SMALL];
        }
        for (int j = 0; j < LARGE; j++) {
            l += b[j] * b[j] * b[j] / 3 * a[j % SMALL];
        }
        return l;
    }

    private Map<String, double[]> analytic() {
        double[] ga = new double[SMALL];
        double[] gb = new double[LARGE];
        for (int i = 0; i < SMALL; i++) {
            ga[i] += Math.cos(a[i]) * a[(i + 1) % SMALL];
            ga[(i + 1) % SMALL] += Math.sin(a[i]);
        }
        for (int j = 0; j < LARGE; j++) {
            ga[j % SMALL] += b[j] * b[j] * b[j] / 3;
            gb[j] = b[j] * b[j] * a[j % SMALL];
        }
        Map<String, double[]> g = new LinkedHashMap<>();
        g.put("a", ga);
        g.put("b", gb);
        return g;
    }

    private Map<String, double[]> weights() {
        Map<String, double[]> w = new LinkedHashMap<>();
        w.put("a", a);
        w.put("b", b);
        return w;
    }

    @Test
    void exactGradientPassesAndWeightsAreRestored() {
        double[] a0 = a.clone();
        double[] b0 = b.clone();
        GradCheck check = new GradCheck(this::loss, 1);
        List<GradCheck.Outcome> all = check.checkEach(weights(), analytic());
        assertThat(all).hasSize(2);
        for (GradCheck.Outcome o : all) {
            assertThat(o.relError()).as(o.report()).isLessThan(1e-8);
        }
        assertThat(all.get(0).checked()).isEqualTo(SMALL);
        assertThat(all.get(1).checked()).isBetween(GradCheck.SAMPLE, GradCheck.SAMPLE + 1);
        assertThat(a).isEqualTo(a0);
        assertThat(b).isEqualTo(b0);
    }

    @Test
    void sampleIsSeededAndContainsTheLargestGradient() {
        double[] gb = analytic().get("b");
        GradCheck check = new GradCheck(this::loss, 1);
        int[] idx = check.indicesToCheck("b", LARGE, gb);
        assertThat(idx).contains(17).isSorted();
        assertThat(new GradCheck(this::loss, 1).indicesToCheck("b", LARGE, gb)).isEqualTo(idx);
        assertThat(check.indicesToCheck("a", SMALL, analytic().get("a"))).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    }

    @Test
    void catchesSignFlipOfOneTensor() {
        Map<String, double[]> g = analytic();
        for (int j = 0; j < LARGE; j++) {
            g.get("b")[j] = -g.get("b")[j];
        }
        List<GradCheck.Outcome> failures = new GradCheck(this::loss, 1).failures(weights(), g, 1e-3);
        assertThat(failures).extracting(GradCheck.Outcome::tensor).containsExactly("b");
        assertThat(failures.get(0).relError()).isGreaterThan(1.9);
    }

    @Test
    void catchesOneMissingTermInASmallTensor() {
        Map<String, double[]> g = analytic();
        g.get("a")[3] -= Math.sin(a[2]); // forgot the "next element" term at one index
        List<GradCheck.Outcome> failures = new GradCheck(this::loss, 1).failures(weights(), g, 1e-3);
        assertThat(failures).extracting(GradCheck.Outcome::tensor).containsExactly("a");
        assertThat(failures.get(0).worstIndex()).isEqualTo(3);
    }

    @Test
    void stepIsRelativeForLargeWeightsAndAbsoluteForSmallOnes() {
        assertThat(GradCheck.step(0.02)).isEqualTo(GradCheck.STEP);
        assertThat(GradCheck.step(-3.0)).isEqualTo(3 * GradCheck.STEP);
    }
}
