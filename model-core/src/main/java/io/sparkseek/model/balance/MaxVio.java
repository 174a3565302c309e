package io.sparkseek.model.balance;

/**
 * Maximal violation of load balance (spec §6.3; Wang et al. §4.1, Eq. 4):
 * {@code MaxVio = (max_i Load_i − mean) / mean} with {@code mean = tokens·K/E}, the load under perfect balance.
 * Over a batch's counts this is MaxVio_batch; the reported figure is the mean over MoE layers.
 */
public final class MaxVio {
    private MaxVio() {
    }

    /** MaxVio of one layer's counts [E] over {@code tokens} tokens; 0 when there were no tokens. */
    public static double of(long[] counts, long tokens, int topK) {
        if (topK < 1 || tokens < 0 || counts.length == 0) {
            throw new IllegalArgumentException("need topK >= 1, tokens >= 0 and at least one expert, got "
                    + topK + ", " + tokens + ", " + counts.length);
        }
        if (tokens == 0) {
            return 0.0;
        }
        double mean = (double) tokens * topK / counts.length;
        long max = Long.MIN_VALUE;
        for (long c : counts) {
            max = Math.max(max, c);
        }
        return (max - mean) / mean;
    }

    /** Mean of {@link #of} over all MoE layers of {@code load}. */
    public static double meanOverLayers(ExpertLoad load, int topK) {
        double sum = 0.0;
        for (int l = 0; l < load.layers(); l++) {
            sum += of(load.counts(l), load.tokens(l), topK);
        }
        return sum / load.layers();
    }
}
