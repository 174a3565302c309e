package io.sparkseek.jobs.train;

import io.sparkseek.model.kernel.ComputeBackend;
import io.sparkseek.model.kernel.ComputeBackends;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The compute backend of a Spark task: {@code sparkseek.compute.backend} ({@code auto|opencl|java}) on the OpenCL
 * device that matches the GPU Spark assigned to this task ({@code spark.task.resource.gpu.amount}, addresses from
 * the executor's discovery script), so tasks sharing an executor with several GPUs each use their own.
 */
public final class TaskBackend {
    /** The Spark resource name of GPUs. */
    public static final String GPU = "gpu";

    private TaskBackend() {
    }

    /** The first GPU address Spark gave the running task, or null outside a task or without GPU resources. */
    public static String assignedGpuAddress() {
        TaskContext task = TaskContext.get();
        if (task == null) {
            return null;
        }
        ResourceInformation gpu = task.resources().get(GPU).getOrElse(() -> null);
        if (gpu == null || gpu.addresses().length == 0) {
            return null;
        }
        return gpu.addresses()[0];
    }

    /** The backend for this task (or the driver): the assigned GPU's OpenCL device when there is one. */
    public static ComputeBackend open(String backendSetting) {
        return ComputeBackends.create(ComputeBackends.Kind.parse(backendSetting), assignedGpuAddress());
    }
}
