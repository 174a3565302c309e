package io.sparkseek.jobs.train;

import java.util.Map;

/**
 * What one stage did, for the console line and {@code metrics.jsonl}. Timings are wall nanos on the driver:
 * <ul>
 *   <li>{@code broadcastNanos}: snapshotting the master state and {@code sc.broadcast} (which serializes it);</li>
 *   <li>{@code computeNanos}: the longest task's own wall time (broadcast fetch, model build, steps);</li>
 *   <li>{@code aggregateNanos}: the Spark job's wall time minus {@code computeNanos} (scheduling, shipping and
 *       merging results), plus summing the replicas' tensors in replica order on the driver;</li>
 *   <li>{@code driverUpdateNanos}: the optimizer step on the master weights and the routing-bias retune.</li>
 * </ul>
 *
 * @param stage     0-based stage index
 * @param steps     optimizer steps in the stage (1 in sync mode, H in local mode)
 * @param loss      mean next-token cross-entropy over all tokens of the stage (all replicas, all steps)
 * @param tokens    tokens trained on in the stage
 * @param gradNorm  global norm of the mean gradient before clipping (sync); NaN in local mode
 * @param lr        learning rate of the stage's (first) step
 * @param loads     per MoE layer prefix ({@code model.layers.N.mlp}): expert counts summed over replicas and steps
 * @param maxVio    MaxVio_batch per MoE layer prefix, from {@code loads}, before the bias retune
 */
public record StageResult(long stage, int steps, double loss, long tokens, double gradNorm, double lr,
                          Map<String, long[]> loads, Map<String, Double> maxVio, long broadcastNanos,
                          long computeNanos, long aggregateNanos, long driverUpdateNanos, long wallNanos) {

    /** MaxVio_batch averaged over MoE layers. */
    public double meanMaxVio() {
        return maxVio.values().stream().mapToDouble(Double::doubleValue).average().orElse(0);
    }

    /** Tokens per second of stage wall time. */
    public double tokensPerSecond() {
        return tokens / (wallNanos / 1e9);
    }

    /** Fraction of the stage's wall time outside task compute (Spark and driver overhead). */
    public double overheadFraction() {
        return 1.0 - computeNanos / (double) wallNanos;
    }
}
