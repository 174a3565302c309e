package io.sparkseek.model.layer;

import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.kernel.VecMath;

/**
 * Mean next-token cross-entropy over all n positions, on FP32 logits (spec §2 step 4; backward §7:
 * {@code dz = (softmax(z) − onehot(y)) / n}). Caches the softmax of the logits.
 */
public final class CrossEntropy {
    private static final int MIN_ROWS_PER_TASK = 8;

    private float[] rowLoss;   // [n]
    private float[] dLogits;   // [n, vocab]
    private int[] targets;
    private int n;
    private int vocab;

    /** logits [n, vocab], targets [n] → mean loss; computes dLogits for {@link #backward()}. */
    public double forward(ComputePool pool, float[] logits, int[] targets, int n, int vocab) {
        this.targets = targets;
        this.n = n;
        this.vocab = vocab;
        rowLoss = Buffers.ensure(rowLoss, n);
        dLogits = Buffers.ensure(dLogits, n * vocab);
        float invN = 1f / n;
        pool.parallelFor(n, MIN_ROWS_PER_TASK, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int o = t * vocab;
                int y = targets[t];
                if (y < 0 || y >= vocab) {
                    throw new IllegalArgumentException("target token id " + y + " at position " + t
                            + " is outside the vocabulary [0, " + vocab + ")");
                }
                float max = VecMath.max(logits, o, vocab);
                float sum = VecMath.expShifted(logits, o, dLogits, o, vocab, max);
                VecMath.scale(dLogits, o, vocab, invN / sum);
                dLogits[o + y] -= invN;
                rowLoss[t] = (float) (Math.log(sum) + max - logits[o + y]);
            }
        });
        double total = 0;
        for (int t = 0; t < n; t++) {
            total += rowLoss[t];
        }
        return total / n;
    }

    /** The gradient of the mean loss w.r.t. the logits [n, vocab] (a buffer owned by this object). */
    public float[] backward() {
        return dLogits;
    }
}
