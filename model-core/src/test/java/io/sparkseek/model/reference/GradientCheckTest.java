package io.sparkseek.model.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The production fp32 {@link DeepSeekModel} against the independent fp64 {@link ReferenceModel}: (a) the loss,
 * (b) every parameter's analytic gradient against central finite differences of the reference with the float
 * model's routing fixed (spec §15 check 6), (c) that the check catches typical backward bugs, (d) that the
 * reference's own routing picks the same experts.
 *
 * <p>Weights: by default the production init (N(0, 0.02), unit norms) is overwritten with "wide" weights: std
 * 1/√fan_in matrices, N(0,1) embedding, norm gains 1 + 0.2·N(0,1). At std 0.02 the network is nearly linear
 * (attention almost uniform, SiLU almost linear, gains all 1) and a backward bug in a small path can hide under
 * the tolerance; wide weights make every path carry O(1) signal. One case keeps the production init as is.
 */
class GradientCheckTest {

    static final int BATCH = 2;
    static final int SEQ = 6;
    static final double LOSS_TOL = 1e-5;
    static final double GRAD_TOL = 1e-3;
    static final String BIAS_SUFFIX = ".mlp.gate.e_score_correction_bias";

    /** Spec-sized tiny config: 3 layers (1 dense), 8 experts in 4 groups, top-2 of the best 2 groups. */
    static ModelConfig config(Integer qLoraRank) {
        return ModelConfig.builder()
                .vocabSize(64).hiddenSize(32).numHiddenLayers(3).firstKDenseReplace(1)
                .numAttentionHeads(2).numKeyValueHeads(2)
                .qLoraRank(qLoraRank).kvLoraRank(16).qkNopeHeadDim(8).qkRopeHeadDim(4).vHeadDim(8)
                .intermediateSize(48).moeIntermediateSize(16)
                .nRoutedExperts(8).numExpertsPerTok(2).nGroup(4).topkGroup(2).nSharedExperts(1)
                .routedScalingFactor(2.0).normTopkProb(true)
                .maxPositionEmbeddings(64)
                .build();
    }

    /** The float model after one forward + backward, and everything the reference side needs. */
    record Case(String label, ModelConfig cfg, double alpha, int[] rows, double floatLoss,
                Map<String, double[]> weights, Map<String, double[]> analytic, Map<String, int[]> floatSelection,
                Map<String, float[]> biases, List<Param> params) {

        ReferenceModel reference() {
            return new ReferenceModel(cfg, weights);
        }

        GradCheck gradCheck() {
            ReferenceModel ref = reference();
            return new GradCheck(() -> ref.forward(rows, BATCH, SEQ, alpha, floatSelection).loss(), 2024);
        }

        @Override
        public String toString() {
            return label;
        }
    }

    static Case prepare(Integer qLoraRank, double alpha, boolean wide, long seed) {
        ModelConfig cfg = config(qLoraRank);
        DeepSeekModel m = new DeepSeekModel(cfg, (float) alpha);
        m.initialize(seed);
        Random rnd = new Random(seed + 1);
        if (wide) {
            for (Param p : m.params()) {
                float[] w = p.w();
                for (int i = 0; i < w.length; i++) {
                    if (p.shape().length == 1) {
                        w[i] = (float) (1 + 0.2 * rnd.nextGaussian());
                    } else if (p.name().equals("model.embed_tokens.weight")) {
                        w[i] = (float) rnd.nextGaussian();
                    } else {
                        w[i] = (float) (rnd.nextGaussian() / Math.sqrt(p.shape()[1]));
                    }
                }
            }
        }
        for (float[] b : m.routerBiases().values()) {
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) (0.05 * rnd.nextGaussian()); // non-zero: selection must use c = s + b
            }
        }
        int[] rows = rnd.ints(BATCH * (SEQ + 1), 0, cfg.vocabSize()).toArray();
        double loss;
        try (ComputePool pool = ComputePool.serial()) {
            m.zeroGrad();
            loss = m.forward(pool, rows, BATCH, SEQ);
            m.backward(pool);
        }
        Map<String, double[]> weights = new LinkedHashMap<>();
        Map<String, double[]> analytic = new LinkedHashMap<>();
        for (Param p : m.params()) {
            weights.put(p.name(), toDouble(p.w()));
            analytic.put(p.name(), toDouble(p.g()));
        }
        m.routerBiases().forEach((name, b) -> weights.put(name, toDouble(b)));
        Map<String, int[]> selection = new LinkedHashMap<>();
        m.routingSelections().forEach((k, v) -> selection.put(k, v.clone()));
        String label = "q_lora_rank=" + qLoraRank + ", alpha=" + alpha + (wide ? ", wide weights" : ", production init");
        return new Case(label, cfg, alpha, rows, loss, weights, analytic, selection, m.routerBiases(), m.params());
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(prepare(16, 0.0, true, 1)),
                Arguments.of(prepare(16, 0.01, true, 2)),
                Arguments.of(prepare(null, 0.0, true, 3)),
                Arguments.of(prepare(null, 0.01, true, 4)),
                Arguments.of(prepare(16, 0.01, false, 5)));
    }

    /** The checker-sensitivity test (c) needs only one case with and one without the balance loss. */
    static Stream<Arguments> corruptionCases() {
        return Stream.of(
                Arguments.of(prepare(16, 0.0, true, 1)),
                Arguments.of(prepare(null, 0.01, true, 4)));
    }

    /** Production parameter names and shapes = the spec §9.2 inventory (minus the bias buffer). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void parametersAreTheSpecInventory(Case c) {
        Map<String, int[]> expected = new LinkedHashMap<>(ReferenceModel.tensorShapes(ReferenceModel.Dims.of(c.cfg())));
        expected.keySet().removeIf(name -> name.endsWith(BIAS_SUFFIX));
        Map<String, String> actual = c.params().stream()
                .collect(Collectors.toMap(Param::name, p -> Arrays.toString(p.shape()), (x, y) -> x, LinkedHashMap::new));
        Map<String, String> want = new LinkedHashMap<>();
        expected.forEach((k, v) -> want.put(k, Arrays.toString(v)));
        assertThat(actual).containsExactlyInAnyOrderEntriesOf(want);
        assertThat(c.biases().keySet()).containsExactlyInAnyOrderElementsOf(
                ReferenceModel.tensorShapes(ReferenceModel.Dims.of(c.cfg())).keySet().stream()
                        .filter(n -> n.endsWith(BIAS_SUFFIX)).toList());
    }

    /** (a) fp32 loss = fp64 reference loss (same weights, same routing) to 1e-5 relative. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void lossMatchesReference(Case c) {
        ReferenceModel.Result r = c.reference().forward(c.rows(), BATCH, SEQ, c.alpha(), c.floatSelection());
        assertThat(Math.abs(c.floatLoss() - r.loss()))
                .as("%s: float loss %.9f vs reference %.9f (ce %.9f + balance %.3e)", c, c.floatLoss(), r.loss(),
                        r.ceLoss(), r.balanceLoss())
                .isLessThanOrEqualTo(LOSS_TOL * Math.abs(r.loss()));
        if (c.alpha() > 0) {
            assertThat(r.balanceLoss()).as("balance loss must be active in this case").isPositive();
        }
    }

    /** (b) every parameter tensor, router gate included: analytic vs central FD of the reference. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everyGradientMatchesFiniteDifferences(Case c) {
        List<GradCheck.Outcome> all = c.gradCheck().checkEach(c.weights(), c.analytic());
        assertThat(all).hasSize(c.params().size());
        List<GradCheck.Outcome> failures = all.stream().filter(o -> !o.passes(GRAD_TOL)).toList();
        assertThat(failures)
                .as("%s: %d of %d tensors exceed rel %.0e:%n%s%nall tensors:%n%s", c, failures.size(), all.size(),
                        GRAD_TOL, GradCheck.report(failures), GradCheck.report(all))
                .isEmpty();
    }

    /** (c) the check catches typical backward bugs, and flags exactly the corrupted tensor. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptionCases")
    void catchesABrokenBackward(Case c) {
        GradCheck check = c.gradCheck();
        Set<String> clean = names(check.failures(c.weights(), c.analytic(), GRAD_TOL));

        // a sign error in one tensor's gradient (router gate: a path the CE alone barely exercises when α = 0)
        String gate = "model.layers.2.mlp.gate.weight";
        assertOnlyNewFailure(check, c, clean, gate, g -> {
            for (int i = 0; i < g.length; i++) {
                g[i] = -g[i];
            }
        });

        // the RoPE key path dropped: zero gradient for the dr rows (k_pe) of kv_a_proj_with_mqa
        String kvA = "model.layers.0.self_attn.kv_a_proj_with_mqa.weight";
        int rkv = c.cfg().kvLoraRank();
        int hidden = c.cfg().hiddenSize();
        assertOnlyNewFailure(check, c, clean, kvA, g -> Arrays.fill(g, rkv * hidden, g.length, 0.0));
    }

    private static void assertOnlyNewFailure(GradCheck check, Case c, Set<String> clean, String tensor,
                                             java.util.function.Consumer<double[]> corrupt) {
        Map<String, double[]> broken = new LinkedHashMap<>(c.analytic());
        double[] g = broken.get(tensor).clone();
        corrupt.accept(g);
        broken.put(tensor, g);
        List<GradCheck.Outcome> failures = check.failures(c.weights(), broken, GRAD_TOL);
        Set<String> added = new HashSet<>(names(failures));
        added.removeAll(clean);
        assertThat(clean).as("%s: %s already failed before corruption", c, tensor).doesNotContain(tensor);
        assertThat(added).as("%s: corrupting %s must be caught, and only there:%n%s", c, tensor,
                GradCheck.report(failures)).containsExactly(tensor);
    }

    private static Set<String> names(List<GradCheck.Outcome> outcomes) {
        return outcomes.stream().map(GradCheck.Outcome::tensor).collect(Collectors.toSet());
    }

    /** (d) the reference's own routing (no fixed selection) picks the same experts per token as the float model. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void referenceRoutingEqualsFloatRouting(Case c) {
        ReferenceModel.Result r = c.reference().forward(c.rows(), BATCH, SEQ, c.alpha(), null);
        int k = c.cfg().numExpertsPerTok();
        assertThat(r.selections().keySet()).containsExactlyElementsOf(c.floatSelection().keySet());
        for (String layer : r.selections().keySet()) {
            int[] ref = r.selections().get(layer);
            int[] flt = c.floatSelection().get(layer);
            assertThat(flt).as("%s %s length", c, layer).hasSize(ref.length);
            for (int t = 0; t < BATCH * SEQ; t++) {
                int[] a = Arrays.copyOfRange(ref, t * k, t * k + k);
                int[] b = Arrays.copyOfRange(flt, t * k, t * k + k);
                Arrays.sort(a);
                Arrays.sort(b);
                assertThat(b).as("%s %s token %d: float %s vs reference (descending c) %s", c, layer, t,
                        Arrays.toString(Arrays.copyOfRange(flt, t * k, t * k + k)),
                        Arrays.toString(Arrays.copyOfRange(ref, t * k, t * k + k))).isEqualTo(a);
            }
        }
        // the fixed-selection loss must not depend on which side chose (they agree)
        assertThat(c.reference().forward(c.rows(), BATCH, SEQ, c.alpha(), c.floatSelection()).loss())
                .isCloseTo(r.loss(), within(1e-12 * r.loss()));
    }

    /** Coverage of (b): over all cases, every routed expert of every MoE layer receives tokens (non-zero gradient). */
    @Test
    void everyExpertIsExercisedInSomeCase() {
        Map<String, int[]> used = new LinkedHashMap<>();
        cases().map(a -> (Case) a.get()[0]).forEach(c -> c.floatSelection().forEach((layer, sel) -> {
            int[] n = used.computeIfAbsent(layer, k -> new int[c.cfg().nRoutedExperts()]);
            for (int e : sel) {
                n[e]++;
            }
        }));
        assertThat(used).isNotEmpty();
        used.forEach((layer, n) -> assertThat(n).as("%s tokens per expert over all cases", layer).doesNotContain(0));
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
