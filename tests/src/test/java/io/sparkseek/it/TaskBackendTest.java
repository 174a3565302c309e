package io.sparkseek.it;

import io.sparkseek.jobs.train.TaskBackend;
import io.sparkseek.model.kernel.ComputeBackend;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The compute backend as Spark tasks choose it, in a real local Spark: without GPU resources a task has no GPU
 * address, {@code auto} takes the Java path on this CPU-only machine and {@code opencl} the POCL device, and two
 * tasks running at once each open their own. (GPU addresses from a discovery script need a standalone cluster:
 * issue 7's integration tests.)
 */
class TaskBackendTest {

    @Test
    void tasksOpenTheConfiguredBackend() {
        SparkSession spark = SparkSession.builder().master("local[2]").appName("task-backend-test")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            List<String> seen = sc.parallelize(List.of("auto", "java", "opencl", "auto"), 4).map(setting -> {
                try (ComputeBackend b = TaskBackend.open(setting)) {
                    return setting + "=" + b.name() + "@" + TaskBackend.assignedGpuAddress();
                }
            }).collect();
            assertThat(seen).hasSize(4);
            assertThat(seen.get(0)).isEqualTo("auto=java@null");
            assertThat(seen.get(1)).isEqualTo("java=java@null");
            assertThat(seen.get(2)).startsWith("opencl=opencl").endsWith("@null");
            assertThat(seen.get(3)).isEqualTo("auto=java@null");
        } finally {
            spark.stop();
        }
        assertThat(TaskBackend.assignedGpuAddress()).as("on the driver").isNull();
        assertThatThrownBy(() -> TaskBackend.open("cuda")).hasMessageContaining("auto, opencl or java");
    }
}
