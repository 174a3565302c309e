package io.sparkseek.jobs.run;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

class StageProgressTest {

    @Test
    void printsTaskProgressWhileAStageRuns() {
        SparkSession spark = SparkSession.builder().master("local[2]").appName("stage-progress-test")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            List<String> lines = new CopyOnWriteArrayList<>();
            sc.setJobGroup("sparkseek-stage-7", "stage 7: test", false);
            try (StageProgress ignored = new StageProgress(sc, "sparkseek-stage-7", "stage 7/9", 1, lines::add)) {
                // 4 tasks on 2 slots: task i sleeps 700 ms × (i+1), so the job runs ~3 s with tasks finishing along
                sc.parallelize(List.of(0, 1, 2, 3), 4).map(i -> {
                    Thread.sleep(700L * (i + 1));
                    return i;
                }).collect();
            }
            sc.clearJobGroup();
            assertThat(lines).isNotEmpty();
            assertThat(lines).allMatch(l -> l.matches("stage 7/9: [0-4]/4 tasks done, \\d+ s"));
            int before = lines.size();
            sleep(1500);
            assertThat(lines).as("nothing after close").hasSize(before);
        } finally {
            spark.stop();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
