package io.sparkseek.jobs.train;

import java.io.Serializable;
import java.util.Map;

/**
 * What one replica's task returns for a stage. Sync mode: {@code tensors} are its gradients dW of the mean loss
 * over its rows; local mode: its weight changes {@code w_after − w_before} over H inner steps. Both flat FP32 per
 * tensor in {@link io.sparkseek.model.layer.DeepSeekModel#params()} order.
 *
 * @param replica      replica index, the key the driver sums by
 * @param tensors      [P][numel] dW (sync) or Δw (local)
 * @param loads        [L][E] expert assignment counts per MoE layer (routing-bias order), summed over its steps
 * @param ceTokenSum   Σ over its steps of mean cross-entropy × tokens
 * @param tokens       tokens it trained on (all steps)
 * @param computeNanos task wall time: from entering the task to its result (broadcast fetch and model build included)
 * @param innerMoments local mode with innerState CARRY: its inner AdamW moments after the stage; else null
 */
public record ReplicaResult(int replica, float[][] tensors, long[][] loads, double ceTokenSum, long tokens,
                            long computeNanos, Map<String, float[]> innerMoments) implements Serializable {
}
