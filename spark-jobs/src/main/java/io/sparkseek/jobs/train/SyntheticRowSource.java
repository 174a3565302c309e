package io.sparkseek.jobs.train;

import io.sparkseek.model.train.SyntheticTokens;

/**
 * {@link RowSource} over {@link SyntheticTokens}, for tests and smoke runs. The global batch of step g is
 * {@code SyntheticTokens.batch(g, B, seqLen)} split over the replicas in order: replica r gets its rows
 * [r·b, (r+1)·b) with b = replicaBatch. {@code batch} draws its rows one after another from one generator per step,
 * so those rows are the last b rows of {@code batch(g, (r+1)·b, seqLen)}, whatever the replica count: R replicas of
 * b rows see exactly the rows one process sees with a batch of R·b.
 */
public final class SyntheticRowSource implements RowSource {
    private static final long serialVersionUID = 1L;

    private final SyntheticTokens.Kind kind;
    private final int vocab;
    private final int period;
    private final long seed;
    private transient SyntheticTokens tokens;   // rebuilt from the fields above after deserialization

    public SyntheticRowSource(SyntheticTokens.Kind kind, int vocab, int period, long seed) {
        this.kind = kind;
        this.vocab = vocab;
        this.period = period;
        this.seed = seed;
        this.tokens = new SyntheticTokens(kind, vocab, period, seed);
    }

    /** The stream itself, as a single process would read it. */
    public SyntheticTokens tokens() {
        if (tokens == null) {
            tokens = new SyntheticTokens(kind, vocab, period, seed);
        }
        return tokens;
    }

    @Override
    public int[] rows(long globalStep, int replica, int replicaBatch, int seqLen) {
        if (replica < 0 || replicaBatch < 1) {
            throw new IllegalArgumentException("need replica >= 0 and replicaBatch >= 1, got " + replica + ", "
                    + replicaBatch);
        }
        int row = seqLen + 1;
        int[] prefix = tokens().batch(globalStep, (replica + 1) * replicaBatch, seqLen);
        int[] out = new int[replicaBatch * row];
        System.arraycopy(prefix, replica * replicaBatch * row, out, 0, out.length);
        return out;
    }
}
