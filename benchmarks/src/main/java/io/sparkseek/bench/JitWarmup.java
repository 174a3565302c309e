package io.sparkseek.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Warm-up until the JIT is done, before JMH's own (short) warm-up iterations. The Vector-API kernels run 100–300×
 * slower until C2 has compiled them, and on a busy 2-core machine, with both cores running a 2-thread pool, C2 gets
 * so little CPU that a fixed warm-up of a few seconds sometimes ends before compilation (measured: 4 GEMMs/s through
 * the whole warm-up, 1,000/s a few seconds later). Here the call runs in batches of {@value #BATCH_MS} ms until, for
 * {@value #STABLE} batches in a row, the JIT has finished no compilation and the rate has not improved by more than
 * 5%, or {@code sparkseek.bench.warmupSeconds} (default {@value #MAX_S}) s have passed. (The rate alone is not
 * enough: before C2 it can stay flat, and slow, for seconds.)
 */
final class JitWarmup {

    static final int BATCH_MS = 100;
    static final int STABLE = 3;
    static final int MAX_S = 20;

    private JitWarmup() {
    }

    /** Runs {@code call} until its rate is stable; prints what it did (JMH shows a fork's output in its log). */
    static void run(String what, Runnable call) {
        long start = System.nanoTime();
        double maxS = Double.parseDouble(System.getProperty("sparkseek.bench.warmupSeconds", String.valueOf(MAX_S)));
        long deadline = start + (long) (maxS * 1e9);
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean jitTimed = jit != null && jit.isCompilationTimeMonitoringSupported();
        double best = 0;
        int stable = 0;
        long calls = 0;
        while (System.nanoTime() < deadline && stable < STABLE) {
            long jit0 = jitTimed ? jit.getTotalCompilationTime() : 0;
            long t0 = System.nanoTime();
            long n = 0;
            do {
                call.run();
                n++;
            } while (System.nanoTime() - t0 < BATCH_MS * 1_000_000L);
            calls += n;
            double rate = n * 1e9 / (System.nanoTime() - t0);
            boolean compiled = jitTimed && jit.getTotalCompilationTime() != jit0;
            if (rate > best * 1.05 || compiled) {
                stable = 0;
            } else {
                stable++;
            }
            best = Math.max(best, rate);
        }
        double s = (System.nanoTime() - start) * 1e-9;
        System.out.printf(Locale.ROOT, "%n# JIT warm-up of %s: %d calls in %.1f s, best %.1f calls/s%s%n", what, calls,
                s, best, stable < STABLE ? " (not stable: time limit)" : "");
    }
}
