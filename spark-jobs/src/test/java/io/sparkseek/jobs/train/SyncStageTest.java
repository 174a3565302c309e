package io.sparkseek.jobs.train;

import io.sparkseek.jobs.config.RunConfig;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.optim.AdamW;
import io.sparkseek.model.train.LocalTrainer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Sync mode adds no math: R replicas on a global batch equal one process on that batch (issue 5, must show). */
class SyncStageTest extends SparkTrainTestBase {

    /**
     * 1 and 2 replicas on the same global batches, and LocalTrainer on them in one process. Measured (tiny preset,
     * batch 4 × 32 tokens, 5 stages): 1 replica vs LocalTrainer bit-identical; 2 replicas vs 1: the first step's
     * mean gradient within 3.0e-7 relative (only the order of the token sums inside the wgrad GEMMs differs), the
     * weights within 1.0e-6 relative (max |a − b| / max |a|). That maximum is one element of
     * {@code layers.0.self_attn.o_proj.weight}, whose first gradient is −7.26e-9 vs −7.28e-9 (a sum that nearly
     * cancels), below AdamW's ε = 1e-8: there lr·m̂/(√v̂ + ε) turns the 0.3% difference into 1.0e-6 of weight, which
     * then persists (55 elements differ by more than 1e-7 after 5 stages). The weight bound is 2e-6 so that this
     * ε-amplified rounding cannot make the test flaky; the gradient bound is what the distributed loop answers for.
     */
    @Test
    void twoReplicasEqualOneReplicaAndLocalTrainer() {
        RunConfig one = new Run().replicas(1).stages(5).build();
        RunConfig two = new Run().replicas(2).stages(5).build();
        SyntheticRowSource rows = pattern(one.seed());

        StageRunner r1 = new StageRunner(tiny(), one, SEQ_LEN, rows);
        StageRunner r2 = new StageRunner(tiny(), two, SEQ_LEN, rows);
        List<StageResult> s1 = new ArrayList<>();
        List<StageResult> s2 = new ArrayList<>();
        for (long s = 0; s < one.stages(); s++) {
            s1.add(r1.runStage(sc, s));
            s2.add(r2.runStage(sc, s));
            if (s == 0) {
                // same weights in, so the mean gradients (left in the master's g after the step) must agree
                double gradDiff = maxRelGradDiff(r1.model(), r2.model());
                System.out.printf("sync stage 1: mean gradient max rel diff 1 vs 2 replicas %.3e%n", gradDiff);
                assertThat(gradDiff).isLessThanOrEqualTo(1e-6);
            }
        }

        // the single-process reference: LocalTrainer on the same global batches
        DeepSeekModel ref = new DeepSeekModel(tiny(), one.balanceAlpha());
        ref.initialize(one.seed());
        LocalTrainer trainer = new LocalTrainer(ref, new AdamW(ref.params(), StageRunner.adamConfig(one)),
                StageRunner.schedule(one), new LocalTrainer.Settings(one.gradClip(), one.balanceGamma()));
        List<LocalTrainer.StepResult> steps = new ArrayList<>();
        try (ComputePool pool = ComputePool.serial()) {
            for (long g = 0; g < one.stages(); g++) {
                int[] batch = rows.tokens().batch(g, one.batchSize(), SEQ_LEN);
                steps.add(trainer.step(pool, batch, one.batchSize(), SEQ_LEN));
            }
        }

        for (StageResult s : s2) {
            System.out.printf("sync 2 replicas stage %d  loss %.4f  |g| %.3f  broadcast %.1f ms  compute %.1f ms  "
                            + "aggregate %.1f ms  update %.1f ms  wall %.1f ms  overhead %.0f%%%n", s.stage() + 1,
                    s.loss(), s.gradNorm(), s.broadcastNanos() / 1e6, s.computeNanos() / 1e6,
                    s.aggregateNanos() / 1e6, s.driverUpdateNanos() / 1e6, s.wallNanos() / 1e6,
                    100 * s.overheadFraction());
        }
        double d12 = maxRelDiff(r1.model(), r2.model());
        double l2 = l2RelDiff(r1.model(), r2.model());
        double d1ref = maxRelDiff(ref, r1.model());
        double d2ref = maxRelDiff(ref, r2.model());
        System.out.printf("sync after %d stages: max rel diff 1 vs 2 replicas %.3e, 1 vs LocalTrainer %.3e, "
                + "2 vs LocalTrainer %.3e%n", one.stages(), d12, d1ref, d2ref);
        System.out.printf("sync 1 vs 2 replicas: L2 relative difference of all weights %.3e%n", l2);
        // the 1e-6 holds for the weights as a whole (L2); the max-element measure is kept at 2e-6 (above)
        assertThat(l2).isLessThanOrEqualTo(1e-6);
        assertThat(d12).isLessThanOrEqualTo(2e-6);
        assertThat(d2ref).isLessThanOrEqualTo(2e-6);
        // one replica is the same computation as LocalTrainer: bit for bit, routing bias included
        assertThat(bitIdentical(ref, r1.model())).isTrue();
        // the routing bias took the same ±γ steps in all three (same summed loads each step)
        for (var e : ref.routerBiases().entrySet()) {
            assertThat(r2.model().routerBiases().get(e.getKey())).containsExactly(e.getValue());
            assertThat(e.getValue()).isNotEqualTo(new float[e.getValue().length]);
        }
        for (int g = 0; g < steps.size(); g++) {
            LocalTrainer.StepResult want = steps.get(g);
            assertThat(s1.get(g).loss()).isCloseTo(want.crossEntropy(), within(1e-9));
            assertThat(s2.get(g).loss()).isCloseTo(want.crossEntropy(), within(1e-5));
            assertThat(s1.get(g).gradNorm()).isCloseTo(want.gradNorm(), within(1e-9));
            assertThat(s2.get(g).gradNorm()).isCloseTo(want.gradNorm(), within(1e-5 * want.gradNorm()));
            assertThat(s2.get(g).lr()).isEqualTo(want.lr());
            assertThat(s2.get(g).tokens()).isEqualTo(want.tokens());
            for (var mv : want.maxVio().entrySet()) {
                assertThat(s2.get(g).maxVio().get(mv.getKey())).isEqualTo(mv.getValue());
            }
        }
        r1.close();
        r2.close();
    }

    private static double maxRelGradDiff(DeepSeekModel a, DeepSeekModel b) {
        double diff = 0;
        double scale = 0;
        for (var p : a.params()) {
            float[] x = p.g();
            float[] y = b.param(p.name()).g();
            for (int i = 0; i < x.length; i++) {
                diff = Math.max(diff, Math.abs(x[i] - y[i]));
                scale = Math.max(scale, Math.abs(x[i]));
            }
        }
        return diff / scale;
    }
}
