package io.sparkseek.jobs.train;

import io.sparkseek.jobs.config.RunConfig;
import io.sparkseek.model.layer.DeepSeekModel;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The routing bias moves only by the sign rule on the driver, from the stage's summed loads; never by gradient. */
class BiasRetuneTest extends SparkTrainTestBase {
    private static final String SUFFIX = ".gate.e_score_correction_bias";

    private static Map<String, float[]> biases(DeepSeekModel m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.routerBiases().forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }

    private static void checkSignRule(RunConfig run) {
        StageRunner runner = new StageRunner(tiny(), run, SEQ_LEN, pattern(run.seed()));
        int topK = tiny().numExpertsPerTok();
        float gamma = run.balanceGamma();
        int moved = 0;
        for (long s = 0; s < run.stages(); s++) {
            Map<String, float[]> before = biases(runner.model());
            StageResult r = runner.runStage(sc, s);
            for (Map.Entry<String, long[]> e : r.loads().entrySet()) {
                long[] counts = e.getValue();
                float[] b0 = before.get(e.getKey() + SUFFIX);
                float[] b1 = runner.model().routerBiases().get(e.getKey() + SUFFIX);
                long total = 0;
                for (long c : counts) {
                    total += c;
                }
                assertThat(total).isEqualTo(r.tokens() * topK);
                for (int i = 0; i < counts.length; i++) {
                    int sign = Long.signum(r.tokens() * topK - counts[i] * counts.length);
                    assertThat(b1[i]).as("stage %d %s expert %d", s, e.getKey(), i).isEqualTo(b0[i] + gamma * sign);
                    moved += sign != 0 ? 1 : 0;
                }
            }
        }
        runner.close();
        assertThat(moved).isPositive();
    }

    @Test
    void syncStepsEachBiasByExactlyGammaTimesSign() {
        checkSignRule(new Run().replicas(2).stages(3).gamma(1e-2f).build());
    }

    @Test
    void localStepsEachBiasByExactlyGammaTimesSignOncePerStage() {
        checkSignRule(new Run().mode(RunConfig.Mode.LOCAL, 3).replicas(2).stages(3).gamma(1e-2f).build());
    }

    @Test
    void gammaZeroLeavesTheBiasAtZeroWhileWeightsTrain() {
        for (RunConfig run : new RunConfig[] {new Run().replicas(2).stages(2).gamma(0f).build(),
            new Run().mode(RunConfig.Mode.LOCAL, 2).replicas(2).stages(2).gamma(0f).build()}) {
            StageRunner runner = new StageRunner(tiny(), run, SEQ_LEN, pattern(run.seed()));
            float[] w0 = runner.model().param("lm_head.weight").w().clone();
            runAll(runner, run);
            runner.close();
            for (float[] b : runner.model().routerBiases().values()) {
                assertThat(b).containsOnly(0f);
            }
            assertThat(runner.model().param("lm_head.weight").w()).isNotEqualTo(w0);
        }
    }

    @Test
    void recenterKeepsZeroMeanAndTheSignRuleDifferences() {
        RunConfig run = new Run().replicas(2).stages(3).gamma(1e-2f).recenter(true).build();
        StageRunner runner = new StageRunner(tiny(), run, SEQ_LEN, pattern(run.seed()));
        long k = tiny().numExpertsPerTok();
        for (long s = 0; s < run.stages(); s++) {
            Map<String, float[]> before = biases(runner.model());
            StageResult r = runner.runStage(sc, s);
            for (Map.Entry<String, long[]> e : r.loads().entrySet()) {
                float[] b0 = before.get(e.getKey() + SUFFIX);
                float[] b1 = runner.model().routerBiases().get(e.getKey() + SUFFIX);
                double mean = 0;
                for (float b : b1) {
                    mean += b;
                }
                assertThat(mean / b1.length).isCloseTo(0.0, within(1e-7));
                // every step is γ·sign minus one common shift
                long[] c = e.getValue();
                double shift = (b0[0] + run.balanceGamma() * Long.signum(r.tokens() * k - c[0] * c.length)) - b1[0];
                for (int i = 0; i < c.length; i++) {
                    double want = b0[i] + run.balanceGamma() * Long.signum(r.tokens() * k - c[i] * c.length) - shift;
                    assertThat((double) b1[i]).isCloseTo(want, within(1e-6));
                }
            }
        }
        runner.close();
    }
}
