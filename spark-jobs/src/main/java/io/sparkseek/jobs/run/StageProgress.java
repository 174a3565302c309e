package io.sparkseek.jobs.run;

import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.JavaSparkStatusTracker;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A progress line while a long training stage runs: every {@code everySeconds} the driver prints how many of the
 * stage's tasks have finished (from Spark's status tracker, for the stage's job group) and the elapsed time, so
 * a stage of many local steps on a cluster does not look hung. Stages shorter than the period print nothing.
 */
final class StageProgress implements AutoCloseable {
    private final ScheduledExecutorService timer;

    StageProgress(JavaSparkContext sc, String jobGroup, String label, long everySeconds, Consumer<String> log) {
        long start = System.nanoTime();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sparkseek-stage-progress");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(() -> {
            JavaSparkStatusTracker tracker = sc.statusTracker();
            int done = 0;
            int total = 0;
            for (int job : tracker.getJobIdsForGroup(jobGroup)) {
                SparkJobInfo info = tracker.getJobInfo(job);
                if (info == null) {
                    continue;
                }
                for (int stageId : info.stageIds()) {
                    SparkStageInfo s = tracker.getStageInfo(stageId);
                    if (s != null) {
                        done += s.numCompletedTasks();
                        total += s.numTasks();
                    }
                }
            }
            log.accept(String.format("%s: %d/%d tasks done, %.0f s", label, done, total,
                    (System.nanoTime() - start) / 1e9));
        }, everySeconds, everySeconds, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
