package io.sparkseek.bench;

import java.lang.management.ManagementFactory;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Secondary metric {@code perCpuSecond}: the work of an iteration (GFLOP, or GB) divided by the CPU time the whole
 * process spent inside the timed calls (all threads: the calling thread, the compute pool's, an OpenCL runtime's).
 *
 * <p>Why: this project's machines have 2 cores shared with other jobs. A job holding one core for minutes (a test
 * suite, another benchmark) leaves a 2-thread run one core, so its wall-clock rate halves, and a 1-thread run
 * time-slices with it whenever a third thread wants a core. CPU time counts only the time the process was on a core,
 * so the per-CPU-second rate of a kernel moves far less (caches shared with, or flushed by, the other job still cost
 * a little; time a hypervisor takes from the VM is not seen at all). With one thread it is the kernel's rate on a
 * core it holds; with {@code n} threads the rate per busy core, which hides poor scaling (the wall-clock rate shows
 * it), and {@code gflop / perCpuSecond} is the number of cores the process kept busy. Comparing two kernels, the ratio of
 * their {@code perCpuSecond} is the ratio of the CPU time they cost.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class CpuRate {

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private double work;
    private long cpuNanos;

    @Setup(Level.Iteration)
    public void reset() {
        work = 0;
        cpuNanos = 0;
    }

    /** The process CPU time in nanoseconds (all threads). */
    static long now() {
        return OS.getProcessCpuTime();
    }

    /** Books one call: {@code work} units done in the CPU time since {@code cpuStart} (from {@link #now()}). */
    void add(double units, long cpuStart) {
        cpuNanos += now() - cpuStart;
        work += units;
    }

    /** Work units per CPU-second in this iteration (the metric). */
    public double perCpuSecond() {
        return cpuNanos > 0 ? work / (cpuNanos * 1e-9) : 0;
    }
}
