package io.sparkseek.model.train;

import java.util.SplittableRandom;

/**
 * Synthetic token streams for smoke runs, tests and benchmarks, where no prepared data exists yet. A batch is a
 * pure function of (kind, seed, step): restarting at a step gives the same batch, as resume requires.
 */
public final class SyntheticTokens {

    /** {@code PATTERN}: a fixed random sequence of {@code period} tokens repeated (learnable to ~0 loss);
     *  {@code RANDOM}: uniform ids (loss stays near ln V; for speed measurements). */
    public enum Kind { PATTERN, RANDOM }

    private final Kind kind;
    private final int vocab;
    private final long seed;
    private final int[] pattern;

    public SyntheticTokens(Kind kind, int vocab, int period, long seed) {
        if (vocab < 2) {
            throw new IllegalArgumentException("vocab must be >= 2, got " + vocab);
        }
        if (period < 1) {
            throw new IllegalArgumentException("pattern period must be >= 1, got " + period);
        }
        this.kind = kind;
        this.vocab = vocab;
        this.seed = seed;
        SplittableRandom rnd = new SplittableRandom(seed);
        this.pattern = new int[period];
        for (int i = 0; i < period; i++) {
            pattern[i] = rnd.nextInt(vocab);
        }
    }

    /** {@code batch} rows of {@code seqLen + 1} ids for optimizer step {@code step}. */
    public int[] batch(long step, int batch, int seqLen) {
        int row = seqLen + 1;
        int[] out = new int[batch * row];
        SplittableRandom rnd = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (step + 1)));
        for (int b = 0; b < batch; b++) {
            if (kind == Kind.PATTERN) {
                int start = rnd.nextInt(pattern.length);
                for (int i = 0; i < row; i++) {
                    out[b * row + i] = pattern[(start + i) % pattern.length];
                }
            } else {
                for (int i = 0; i < row; i++) {
                    out[b * row + i] = rnd.nextInt(vocab);
                }
            }
        }
        return out;
    }
}
