package io.sparkseek.model.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Self-tests of {@link ReferenceModel} against hand-computed values and the spec, with no production code:
 * RoPE vs HF's de-interleave + rotate-half formula (§3.3, §15 check 4), routing (§4.2, §15 check 5), the balance
 * loss (§6.2), a hand-made MoE layer, and structural properties of the full forward.
 */
class ReferenceModelTest {

    /** A small config satisfying §1.4 (K ≤ Gk·E/G, dr even). */
    static final ReferenceModel.Dims SMALL = new ReferenceModel.Dims(16, 8, 2, 1, 2, 4, 4, 4, 2, 4, 12, 4, 4, 2, 2, 1,
            1, 2.0, true, 10000.0, 1e-6);

    /** Random tensors for every name of {@link ReferenceModel#tensorShapes}: std 1/√in matrices, norms ≈ 1. */
    static Map<String, double[]> randomTensors(ReferenceModel.Dims d, long seed) {
        Random rnd = new Random(seed);
        Map<String, double[]> w = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : ReferenceModel.tensorShapes(d).entrySet()) {
            int[] shape = e.getValue();
            double[] t = new double[Arrays.stream(shape).reduce(1, (x, y) -> x * y)];
            for (int i = 0; i < t.length; i++) {
                if (e.getKey().endsWith("e_score_correction_bias")) {
                    t[i] = 0.1 * rnd.nextGaussian();
                } else if (shape.length == 1) {
                    t[i] = 1 + 0.2 * rnd.nextGaussian();
                } else {
                    t[i] = rnd.nextGaussian() / Math.sqrt(shape[1]);
                }
            }
            w.put(e.getKey(), t);
        }
        return w;
    }

    // ---------------------------------------------------------------------------------------------- RoPE

    /** HF (§3.3): de-interleave to x0,x2,…,x1,x3,…; out = y·cos(cat(f,f)) + rotate_half(y)·sin(cat(f,f)). */
    private static double[] hfRope(double[] x, int pos, double theta) {
        int dr = x.length;
        int half = dr / 2;
        double[] y = new double[dr];
        for (int i = 0; i < half; i++) {
            y[i] = x[2 * i];
            y[half + i] = x[2 * i + 1];
        }
        double[] out = new double[dr];
        for (int j = 0; j < dr; j++) {
            double invFreq = 1.0 / Math.pow(theta, (2.0 * (j % half)) / dr); // inv_freq = θ^-(arange(0,dr,2)/dr)
            double angle = pos * invFreq;
            double rotateHalf = j < half ? -y[j + half] : y[j - half];
            out[j] = y[j] * Math.cos(angle) + rotateHalf * Math.sin(angle);
        }
        return out;
    }

    private static double[] officialRope(double[] x, int pos) {
        double[] v = x.clone();
        ReferenceModel.rope(v, 0, v.length, pos, 10000.0);
        return v;
    }

    @Test
    void ropeEqualsHfInterleavedFormulaUpToThePermutation() {
        Random rnd = new Random(3);
        double[] q = rnd.doubles(8).map(v -> 2 * v - 1).toArray();
        double[] k = rnd.doubles(8).map(v -> 2 * v - 1).toArray();
        int[] perm = {0, 2, 4, 6, 1, 3, 5, 7};
        double[] ours = officialRope(q, 5);
        double[] hf = hfRope(q, 5, 10000.0);
        for (int j = 0; j < 8; j++) {
            assertThat(hf[j]).as("hf[%d] = official[perm[%d]]", j, j).isCloseTo(ours[perm[j]], within(1e-14));
        }
        double dotOurs = dot(ours, officialRope(k, 2));
        double dotHf = dot(hf, hfRope(k, 2, 10000.0));
        assertThat(dotOurs).isCloseTo(dotHf, within(1e-13));
    }

    @Test
    void ropeRotatesAdjacentPairsAndDependsOnlyOnRelativePosition() {
        double[] v = {1, 0, 1, 0};
        ReferenceModel.rope(v, 0, 4, 1, 10000.0);
        // pair 0: θ_0 = 1 → angle 1; pair 1: θ_1 = 10000^(-1/2) = 0.01 → angle 0.01
        assertThat(v).containsExactly(new double[] {Math.cos(1), Math.sin(1), Math.cos(0.01), Math.sin(0.01)},
                within(1e-15));
        Random rnd = new Random(4);
        double[] q = rnd.doubles(8).toArray();
        double[] k = rnd.doubles(8).toArray();
        assertThat(dot(officialRope(q, 7), officialRope(k, 4)))
                .isCloseTo(dot(officialRope(q, 3), officialRope(k, 0)), within(1e-13));
        assertThat(officialRope(q, 0)).isEqualTo(q);
    }

    // ------------------------------------------------------------------------------------------- routing

    @Test
    void groupsAreRankedBySumOfTopTwoNotByMax() {
        // groups of 2: g0 {0.9,-0.5} sum 0.4 (best max!), g1 {0.5,0.5} sum 1.0, g2 {0.6,0.3} sum 0.9, g3 sum 0.3
        double[] c = {0.9, -0.5, 0.5, 0.5, 0.6, 0.3, 0.1, 0.2};
        assertThat(ReferenceModel.selectExperts(c, 4, 2, 2)).containsExactly(4, 2); // 2 vs 3 tie → lower index
        assertThat(ReferenceModel.selectExperts(c, 4, 2, 4)).containsExactly(4, 2, 3, 5);
    }

    @Test
    void excludedGroupsAreMinusInfinityNotZero() {
        // all biased scores negative; g0 sum −0.3 beats g1 sum −0.55. HF's 0.0 masking would pick 2 and 3.
        double[] c = {-0.1, -0.2, -0.5, -0.05};
        assertThat(ReferenceModel.selectExperts(c, 2, 1, 2)).containsExactly(0, 1);
    }

    @Test
    void tiesGoToTheLowerIndexForGroupsAndExperts() {
        double[] c = new double[8];
        Arrays.fill(c, 0.5);
        assertThat(ReferenceModel.selectExperts(c, 4, 2, 3)).containsExactly(0, 1, 2);
    }

    @Test
    void gateWeightsComeFromUnbiasedAffinitiesNormalizedAndScaled() {
        double[] s = {0.2, 0.6, 0.1, 0.9};
        assertThat(ReferenceModel.gateWeights(s, new int[] {3, 1}, true, 2.5)).containsExactly(
                new double[] {1.5, 1.0}, within(1e-15));
        assertThat(ReferenceModel.gateWeights(s, new int[] {3, 1}, false, 2.5)).containsExactly(
                new double[] {2.25, 1.5}, within(1e-15));
    }

    @Test
    void balanceLossMatchesHandComputation() {
        // E = 2, K = 1, T = 2: s' rows (0.5,0.5) and (0.8,0.2) → P = (0.65, 0.35); both tokens pick 0 → f = (2, 0)
        double[][] s = {{0.5, 0.5}, {0.8, 0.2}};
        assertThat(ReferenceModel.sequenceBalanceLoss(s, new int[] {0, 0}, 1, 1.0)).isCloseTo(1.3, within(1e-15));
        // s' normalizes over all experts: scaling a token's affinities changes nothing
        double[][] s2 = {{0.25, 0.25}, {0.4, 0.1}};
        assertThat(ReferenceModel.sequenceBalanceLoss(s2, new int[] {0, 0}, 1, 0.1)).isCloseTo(0.13, within(1e-15));
        // batch of two sequences: second picks expert 1 twice → f = (0, 2), L = 2·0.35 = 0.7; mean (1.3 + 0.7)/2
        double[][] both = {{0.5, 0.5}, {0.8, 0.2}, {0.5, 0.5}, {0.8, 0.2}};
        assertThat(ReferenceModel.batchBalanceLoss(both, new int[] {0, 0, 1, 1}, 2, 2, 1.0))
                .isCloseTo(1.0, within(1e-15));
    }

    // ---------------------------------------------------------------------------------- hand-made MoE

    private static final double SIG1 = 0.7310585786300049;  // σ(1)
    private static final double SIG2 = 0.8807970779778823;  // σ(2)

    @Test
    void moeLayerMatchesHandComputation() {
        // H = 2, one MoE layer, E = 4 in 2 groups, K = 2, Im = 1, one shared expert, ρ = 2
        ReferenceModel.Dims d = new ReferenceModel.Dims(4, 2, 1, 0, 1, 0, 2, 2, 2, 2, 4, 1, 4, 2, 2, 1, 1, 2.0, true,
                10000.0, 1e-6);
        Map<String, double[]> w = new HashMap<>();
        ReferenceModel.tensorShapes(d).forEach((name, shape) ->
                w.put(name, new double[Arrays.stream(shape).reduce(1, (x, y) -> x * y)]));
        String p = "model.layers.0.mlp.";
        w.put(p + "gate.weight", new double[] {0, 0, 1, 0, -1, 0, 2, 0});   // ℓ = (0, 1, −1, 2) for u = (1, 0)
        w.put(p + "gate.e_score_correction_bias", new double[] {0, 0.5, 0, 0});
        // c = (0.5, 1.231, 0.269, 0.881): g0 sum 1.731 > g1 sum 1.150 → experts 1, 0 (3 has the 2nd best c, excluded)
        expert(w, p + "experts.0.", new double[] {2, 0}, new double[] {1, 0}, new double[] {1, 0});
        expert(w, p + "experts.1.", new double[] {1, 0}, new double[] {3, 0}, new double[] {0, 1});
        expert(w, p + "experts.3.", new double[] {1, 0}, new double[] {1, 0}, new double[] {5, 5});
        expert(w, p + "shared_experts.", new double[] {1, 0}, new double[] {1, 0}, new double[] {1, 1});
        ReferenceModel m = new ReferenceModel(d, w);

        ReferenceModel.MoeOut out = m.moe(new double[][] {{1, 0}}, p, null);
        assertThat(out.selection()).containsExactly(1, 0);
        double silu1 = 1 * SIG1;
        double silu2 = 2 * SIG2;
        double g1 = 2 * SIG1 / (SIG1 + 0.5);
        double g0 = 2 * 0.5 / (SIG1 + 0.5);
        assertThat(out.y()[0]).containsExactly(new double[] {g0 * silu2 + silu1, g1 * 3 * silu1 + silu1},
                within(1e-14));

        // a fixed selection is used as given; its weights still come from the current s
        ReferenceModel.MoeOut fixed = m.moe(new double[][] {{1, 0}}, p, new int[] {3, 2});
        double s2 = 1 - SIG1;
        double g3 = 2 * SIG2 / (SIG2 + s2);
        assertThat(fixed.selection()).containsExactly(3, 2);
        assertThat(fixed.y()[0]).containsExactly(new double[] {g3 * 5 * silu1 + silu1, g3 * 5 * silu1 + silu1},
                within(1e-14));
    }

    private static void expert(Map<String, double[]> w, String p, double[] gate, double[] up, double[] down) {
        w.put(p + "gate_proj.weight", gate);
        w.put(p + "up_proj.weight", up);
        w.put(p + "down_proj.weight", down);
    }

    // ------------------------------------------------------------------------------------ full forward

    private static final int T = 5;

    private static int[] rows(long seed, int batch, int vocab) {
        return new Random(seed).ints(batch * (T + 1), 0, vocab).toArray();
    }

    @Test
    void zeroHeadGivesUniformCrossEntropy() {
        Map<String, double[]> w = randomTensors(SMALL, 1);
        Arrays.fill(w.get("lm_head.weight"), 0);
        ReferenceModel.Result r = new ReferenceModel(SMALL, w).forward(rows(2, 2, 16), 2, T, 0, null);
        assertThat(r.ceLoss()).isCloseTo(Math.log(16), within(1e-12));
        assertThat(r.balanceLoss()).isZero();
        assertThat(r.loss()).isEqualTo(r.ceLoss());
    }

    @Test
    void attentionIsCausalWithinARowAndRowsAreIndependent() {
        ReferenceModel m = new ReferenceModel(SMALL, randomTensors(SMALL, 5));
        int[] rows = rows(6, 2, 16);
        double[][] before = m.forward(rows, 2, T, 0, null).logits();
        rows[3] = (rows[3] + 1) % 16; // input position 3 of row 0
        double[][] after = m.forward(rows, 2, T, 0, null).logits();
        for (int t = 0; t < 3; t++) {
            assertThat(after[t]).as("row 0, position %d precedes the change", t).isEqualTo(before[t]);
        }
        assertThat(after[3]).isNotEqualTo(before[3]);
        assertThat(after[4]).isNotEqualTo(before[4]);
        for (int t = T; t < 2 * T; t++) {
            assertThat(after[t]).as("row 1, position %d", t - T).isEqualTo(before[t]);
        }
    }

    @Test
    void positionsRestartInEveryRow() {
        ReferenceModel m = new ReferenceModel(SMALL, randomTensors(SMALL, 8));
        int[] one = rows(9, 1, 16);
        int[] two = new int[2 * (T + 1)];
        System.arraycopy(one, 0, two, 0, T + 1);
        System.arraycopy(one, 0, two, T + 1, T + 1);
        double[][] logits = m.forward(two, 2, T, 0, null).logits();
        for (int t = 0; t < T; t++) {
            assertThat(logits[T + t]).containsExactly(logits[t], within(1e-12));
        }
    }

    @Test
    void fixingTheOwnSelectionChangesNothingAndBalanceLossAddsUp() {
        ReferenceModel m = new ReferenceModel(SMALL, randomTensors(SMALL, 11));
        int[] rows = rows(12, 3, 16);
        ReferenceModel.Result free = m.forward(rows, 3, T, 0.01, null);
        assertThat(free.selections()).containsOnlyKeys("model.layers.1.mlp");
        int[] sel = free.selections().get("model.layers.1.mlp");
        assertThat(sel).hasSize(3 * T * SMALL.topK());
        assertThat(Arrays.stream(free.counts().get("model.layers.1.mlp")).sum()).isEqualTo(sel.length);
        for (int t = 0; t < 3 * T; t++) {
            // group-limited: with Gk = 1 both experts of a token come from the same group of 2
            assertThat(sel[2 * t] / 2).isEqualTo(sel[2 * t + 1] / 2);
        }
        ReferenceModel.Result fixed = m.forward(rows, 3, T, 0.01, free.selections());
        assertThat(fixed.loss()).isEqualTo(free.loss());
        assertThat(free.balanceLoss()).isPositive();
        assertThat(free.loss()).isEqualTo(free.ceLoss() + free.balanceLoss());
        assertThat(m.forward(rows, 3, T, 0, null).loss()).isEqualTo(free.ceLoss());
    }

    private static double dot(double[] x, double[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * y[i];
        }
        return s;
    }
}
