package io.sparkseek.jobs.train;

import io.sparkseek.jobs.config.RunConfig;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** Local-steps mode (DiLoCo): H inner AdamW steps per task, outer Nesterov on the driver. */
class LocalStageTest extends SparkTrainTestBase {

    private static void print(String what, List<StageResult> stages) {
        for (StageResult s : stages) {
            System.out.printf("%s stage %2d  loss %.4f  lr %.2e  maxvio %.3f  tokens %d  broadcast %.1f ms  "
                            + "compute %.1f ms  aggregate %.1f ms  update %.1f ms  wall %.1f ms  overhead %.0f%%%n",
                    what, s.stage() + 1, s.loss(), s.lr(), s.meanMaxVio(), s.tokens(), s.broadcastNanos() / 1e6,
                    s.computeNanos() / 1e6, s.aggregateNanos() / 1e6, s.driverUpdateNanos() / 1e6,
                    s.wallNanos() / 1e6, 100 * s.overheadFraction());
        }
    }

    @Test
    void lossFallsWithFourLocalStepsOnTwoReplicas() {
        RunConfig run = new Run().mode(RunConfig.Mode.LOCAL, 4).replicas(2).stages(10).lr(3e-3, 3e-4, 4).build();
        StageRunner runner = new StageRunner(tiny(), run, SEQ_LEN, pattern(run.seed()));
        List<StageResult> stages = runAll(runner, run);
        runner.close();
        print("local H=4 RESET", stages);
        double first = stages.get(0).loss();
        double last = stages.get(stages.size() - 1).loss();
        assertThat(first).isBetween(Math.log(512) - 0.5, Math.log(512) + 0.5);
        assertThat(last).isLessThan(0.7 * first);
        for (StageResult s : stages) {
            assertThat(s.steps()).isEqualTo(4);
            assertThat(s.tokens()).isEqualTo(4L * run.batchSize() * SEQ_LEN);
            assertThat(s.gradNorm()).isNaN();
            assertThat(s.lr()).isEqualTo(StageRunner.schedule(run).lr(s.stage() * 4));
        }
        assertThat(runner.outer().step()).isEqualTo(10);
        assertThat(runner.innerStates()).isEmpty();
    }

    @Test
    void carriedInnerStateTrainsAndIsKeptPerReplica() {
        RunConfig run = new Run().mode(RunConfig.Mode.LOCAL, 4).inner(RunConfig.InnerState.CARRY).replicas(2)
                .stages(6).lr(3e-3, 3e-4, 4).build();
        StageRunner runner = new StageRunner(tiny(), run, SEQ_LEN, pattern(run.seed()));
        List<StageResult> stages = runAll(runner, run);
        runner.close();
        print("local H=4 CARRY", stages);
        assertThat(stages.get(5).loss()).isLessThan(0.8 * stages.get(0).loss());
        assertThat(runner.innerStates()).containsOnlyKeys(0, 1);
        int tensors = runner.model().params().size();
        assertThat(runner.innerStates().get(0)).hasSize(2 * tensors)
                .containsKey("model.embed_tokens.weight.exp_avg");
        // the replicas saw different rows, so their moments differ
        assertThat(runner.innerStates().get(0).get("lm_head.weight.exp_avg"))
                .isNotEqualTo(runner.innerStates().get(1).get("lm_head.weight.exp_avg"));
    }

    /** The Spark UI reads "stage N: H local steps" / "stage N: sync step" (issue 5 item 5). */
    @Test
    void sparkJobsAreNamedByStage() throws InterruptedException {
        List<String> descriptions = new CopyOnWriteArrayList<>();
        SparkListener listener = new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart start) {
                descriptions.add(start.properties().getProperty("spark.job.description") + " | "
                        + start.properties().getProperty("spark.jobGroup.id"));
            }
        };
        sc.sc().addSparkListener(listener);
        try {
            RunConfig local = new Run().mode(RunConfig.Mode.LOCAL, 3).replicas(2).stages(2).build();
            StageRunner runner = new StageRunner(tiny(), local, SEQ_LEN, pattern(1));
            runAll(runner, local);
            runner.close();
            RunConfig sync = new Run().replicas(2).stages(1).build();
            runner = new StageRunner(tiny(), sync, SEQ_LEN, pattern(1));
            runAll(runner, sync);
            runner.close();
            for (int i = 0; i < 100 && descriptions.size() < 3; i++) {
                Thread.sleep(50);
            }
        } finally {
            sc.sc().removeSparkListener(listener);
        }
        assertThat(descriptions).containsExactly("stage 1: 3 local steps | sparkseek-stage-1",
                "stage 2: 3 local steps | sparkseek-stage-2", "stage 1: sync step | sparkseek-stage-1");
        assertThat(sc.getLocalProperty("spark.job.description")).isNull();
    }

    @Test
    void fp8TasksRun() {
        RunConfig base = new Run().mode(RunConfig.Mode.LOCAL, 2).replicas(2).stages(2).build();
        RunConfig run = new RunConfig(base.mode(), base.replicas(), base.localSteps(), base.stages(), base.batchSize(),
                base.seed(), "fp8", base.lr(), base.minLr(), base.warmupSteps(), base.gradClip(), base.innerState(),
                base.outerLr(), base.outerMomentum(), base.balanceGamma(), base.balanceRecenter(),
                base.balanceAlpha(), 0, 0, 0, 1, "java", 1);
        StageRunner runner = new StageRunner(tiny(), run, SEQ_LEN, pattern(run.seed()));
        List<StageResult> stages = runAll(runner, run);
        runner.close();
        print("local H=2 fp8", stages);
        assertThat(stages).allMatch(s -> Double.isFinite(s.loss()) && s.loss() > 0);
    }
}
