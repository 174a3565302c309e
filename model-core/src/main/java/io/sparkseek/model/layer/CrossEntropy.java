package io.sparkseek.model.layer;

import io.sparkseek.model.kernel.ComputePool;

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
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < vocab; j++) {
                    max = Math.max(max, logits[o + j]);
                }
                double sum = 0;
                for (int j = 0; j < vocab; j++) {
                    float e = (float) Math.exp(logits[o + j] - max);
                    dLogits[o + j] = e;
                    sum += e;
                }
                float inv = (float) (1.0 / sum);
                for (int j = 0; j < vocab; j++) {
                    dLogits[o + j] *= inv * invN;
                }
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
