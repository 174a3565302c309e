package io.sparkseek.jobs.train;

import io.sparkseek.jobs.config.RunConfig;
import io.sparkseek.model.layer.DeepSeekModel;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.Test;

import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tasks are stateless and deterministic (ARCHITECTURE §2, issue 5 item 4): the same run twice, a run whose tasks
 * fail once and are retried, and a run with more replicas than task slots all give the same bits.
 */
class DeterminismTest extends SparkTrainTestBase {

    private static DeepSeekModel train(RunConfig run, int failReplica) {
        StageRunner runner = new StageRunner(tiny(), run, SEQ_LEN, pattern(run.seed()));
        runner.failFirstAttemptOf(failReplica);
        runAll(runner, run);
        runner.close();
        return runner.model();
    }

    /** Counts failed task attempts (listener events arrive asynchronously; {@link #await} polls). */
    private static final class FailedTasks extends SparkListener {
        final AtomicInteger failed = new AtomicInteger();

        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
            if (!end.taskInfo().successful()) {
                failed.incrementAndGet();
            }
        }

        int await(int atLeast) throws InterruptedException {
            for (int i = 0; i < 100 && failed.get() < atLeast; i++) {
                Thread.sleep(50);
            }
            return failed.get();
        }
    }

    @Test
    void syncRunIsBitIdenticalTwiceAndWithRetriedTasks() throws InterruptedException {
        RunConfig run = new Run().replicas(2).stages(3).build();
        DeepSeekModel first = train(run, -1);
        DeepSeekModel again = train(run, -1);
        assertThat(bitIdentical(first, again)).isTrue();

        FailedTasks listener = new FailedTasks();
        sc.sc().addSparkListener(listener);
        try {
            DeepSeekModel retried = train(run, 1);
            assertThat(listener.await(3)).as("replica 1 failed once in each of the 3 stages").isEqualTo(3);
            assertThat(bitIdentical(first, retried)).isTrue();
        } finally {
            sc.sc().removeSparkListener(listener);
        }
    }

    @Test
    void localRunWithRetriedTasksIsBitIdentical() {
        for (RunConfig.InnerState inner : RunConfig.InnerState.values()) {
            RunConfig run = new Run().mode(RunConfig.Mode.LOCAL, 2).inner(inner).replicas(2).stages(3).build();
            DeepSeekModel clean = train(run, -1);
            DeepSeekModel retried = train(run, 0);
            assertThat(bitIdentical(clean, retried)).as("innerState " + inner).isTrue();
        }
    }

    @Test
    void moreReplicasThanTaskSlotsIsBitIdentical() {
        // 4 tasks on 2 slots finish in varying order; 2 such runs must agree bit for bit
        RunConfig run = new Run().replicas(4).batch(8).stages(3).build();
        assertThat(bitIdentical(train(run, -1), train(run, -1))).isTrue();
    }

    /** The combine only files results by replica, so any merge order or tree shape gives the same mean bits. */
    @Test
    void meanDoesNotDependOnMergeOrder() {
        DeepSeekModel model = new DeepSeekModel(tiny(), 0f);
        int n = model.params().size();
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        ReplicaResult[] results = new ReplicaResult[5];
        for (int r = 0; r < results.length; r++) {
            float[][] t = new float[n][];
            for (int i = 0; i < n; i++) {
                t[i] = new float[model.params().get(i).size()];
                for (int j = 0; j < t[i].length; j++) {
                    t[i][j] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-6, 3)));
                }
            }
            results[r] = new ReplicaResult(r, t, new long[0][], 0, 0, 0, null);
        }
        // ((0 1) (2 3 4)) versus ((4 2) (1 (3 0)))
        TreeMap<Integer, ReplicaResult> a = StageRunner.merge(
                StageRunner.add(StageRunner.add(new TreeMap<>(), results[0]), results[1]),
                StageRunner.add(StageRunner.add(StageRunner.add(new TreeMap<>(), results[2]), results[3]),
                        results[4]));
        TreeMap<Integer, ReplicaResult> b = StageRunner.merge(
                StageRunner.add(StageRunner.add(new TreeMap<>(), results[4]), results[2]),
                StageRunner.merge(StageRunner.add(new TreeMap<>(), results[1]),
                        StageRunner.add(StageRunner.add(new TreeMap<>(), results[3]), results[0])));
        float[][] ma = StageRunner.meanInReplicaOrder(a, model.params());
        float[][] mb = StageRunner.meanInReplicaOrder(b, model.params());
        for (int i = 0; i < n; i++) {
            assertThat(mb[i]).containsExactly(ma[i]);
        }
        // whereas summing FP32 in arrival order would not be: (x + y) + z ≠ x + (y + z)
        float x = 1e8f;
        float y = -1e8f;
        float z = 1f;
        assertThat((x + y) + z).isNotEqualTo(x + (y + z));
        assertThat(a.keySet()).containsExactly(0, 1, 2, 3, 4);
        assertThat(b.keySet()).containsExactly(0, 1, 2, 3, 4);
    }
}
