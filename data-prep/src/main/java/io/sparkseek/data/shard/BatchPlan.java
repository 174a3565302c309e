package io.sparkseek.data.shard;

import java.io.Serial;
import java.io.Serializable;
import java.util.SplittableRandom;

/**
 * Which train rows each replica reads at each global optimizer step (ARCHITECTURE.md §2: batches assigned from
 * seed, epoch, step and replica). A pure function of (seed, N train rows, global batch size B, replicas R):
 * <ul>
 *   <li>epoch e is a permutation of the rows [0, N): Fisher–Yates (Durstenfeld, from the top index down) driven by
 *       {@code new SplittableRandom(epochSeed(seed, e))}, where
 *       {@code epochSeed(seed, e) = mix64(mix64(seed) + GOLDEN * (e + 1))}, mix64 being SplitMix64's finaliser
 *       (Stafford variant 13) and GOLDEN {@code 0x9E3779B97F4A7C15}; so an epoch's seed costs O(1) to derive
 *       for any e, and neighbouring seeds or epochs give unrelated permutations;</li>
 *   <li>the epochs are concatenated into one stream of positions, and global step g consumes positions
 *       [g·B, (g+1)·B); a step may straddle two epochs (several when N &lt; B);</li>
 *   <li>replica r takes the contiguous slice [r·B/R, (r+1)·B/R) of its step's B rows.</li>
 * </ul>
 * So the rows of a step do not depend on R: the replica slices of R = 1, 2, 4 concatenate to the same list, which
 * is what lets 2 replicas train exactly like 1 on the same global batch. Every row appears once per epoch.
 *
 * <p>Memory: one epoch's permutation, N ints, is cached (transient, rebuilt lazily after deserialization or
 * when another epoch is asked for); building it takes O(N) time and no other memory. Only the most recent
 * epoch is kept, so asking for steps in increasing order rebuilds each permutation once. Safe to share between
 * threads: the cache is an immutable (epoch, permutation) pair swapped atomically; two threads asking for the
 * same new epoch at once may both build it.
 */
public final class BatchPlan implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    /** Largest N: an epoch's permutation is one int[]. */
    public static final long MAX_ROWS = Integer.MAX_VALUE - 8;
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private final long seed;
    private final long trainRows;
    private final int batchSize;
    private final int replicas;
    private transient volatile Epoch cached;

    /** One epoch's permutation: {@code order[p]} is the row at position p of the epoch. */
    private record Epoch(long index, int[] order) {}

    private BatchPlan(long seed, long trainRows, int batchSize, int replicas) {
        this.seed = seed;
        this.trainRows = trainRows;
        this.batchSize = batchSize;
        this.replicas = replicas;
    }

    /**
     * The plan for {@code trainRows} rows (the train split's sequences, N ≥ 1; N may be smaller than the
     * batch), {@code batchSize} rows per global step (B, summed over replicas) and {@code replicas} tasks
     * (R ≥ 1, B a multiple of R).
     */
    public static BatchPlan of(long seed, long trainRows, int batchSize, int replicas) {
        if (trainRows < 1) {
            throw new IllegalArgumentException("the train split has " + trainRows + " rows; a batch plan needs at"
                    + " least 1. Prepare more data (scripts/sparkseek prep) or lower --seq-len so it fills a row");
        }
        if (trainRows > MAX_ROWS) {
            throw new IllegalArgumentException("the train split has " + trainRows + " rows, more than the "
                    + MAX_ROWS + " one epoch's permutation (an int[]) can hold; train on a subset of the shards");
        }
        if (replicas < 1) {
            throw new IllegalArgumentException("replicas must be >= 1, got " + replicas
                    + "; set sparkseek.train.replicas");
        }
        if (batchSize < 1 || batchSize % replicas != 0) {
            throw new IllegalArgumentException("global batch size " + batchSize + " must be a positive multiple of"
                    + " replicas " + replicas + "; set sparkseek.train.batchSize to k x sparkseek.train.replicas");
        }
        return new BatchPlan(seed, trainRows, batchSize, replicas);
    }

    public long seed() {
        return seed;
    }

    /** N: the number of train rows the plan permutes. */
    public long trainRows() {
        return trainRows;
    }

    /** B: rows per global step, summed over replicas. */
    public int batchSize() {
        return batchSize;
    }

    /** R: the number of replicas a step's rows are split across. */
    public int replicas() {
        return replicas;
    }

    /** B / R: rows each replica reads per step. */
    public int rowsPerReplica() {
        return batchSize / replicas;
    }

    /** The rows replica {@code replica} reads at {@code globalStep}: B/R train row indices, in plan order. */
    public long[] rows(long globalStep, int replica) {
        checkStep(globalStep);
        if (replica < 0 || replica >= replicas) {
            throw new IllegalArgumentException("replica " + replica + " is outside [0, " + replicas + ")");
        }
        int per = rowsPerReplica();
        return positions(globalStep * batchSize + (long) replica * per, per);
    }

    /** All B rows of {@code globalStep}, in replica order (replica 0's slice first). */
    public long[] rows(long globalStep) {
        checkStep(globalStep);
        return positions(globalStep * batchSize, batchSize);
    }

    /**
     * The epoch of the first row of {@code globalStep} (a step that straddles epochs ends in a later one): 0 for
     * the first N rows of the stream, 1 for the next N, and so on.
     */
    public long epochOf(long globalStep) {
        checkStep(globalStep);
        return globalStep * batchSize / trainRows;
    }

    /** The seed of epoch {@code epoch}'s permutation: see the class comment. */
    static long epochSeed(long seed, long epoch) {
        return mix64(mix64(seed) + GOLDEN * (epoch + 1));
    }

    /** The permutation of epoch {@code epoch}: position p holds row {@code permutation(e)[p]}. A fresh copy. */
    int[] permutation(long epoch) {
        return epoch(epoch).clone();
    }

    /** Rows at stream positions [first, first + count); positions increase, so epochs are visited in order. */
    private long[] positions(long first, int count) {
        long[] out = new long[count];
        int i = 0;
        while (i < count) {
            long position = first + i;
            long e = position / trainRows;
            int offset = (int) (position % trainRows);
            int[] order = epoch(e);
            int n = (int) Math.min(count - i, trainRows - offset);
            for (int k = 0; k < n; k++) {
                out[i + k] = order[offset + k];
            }
            i += n;
        }
        return out;
    }

    private int[] epoch(long e) {
        Epoch c = cached;
        if (c != null && c.index() == e) {
            return c.order();
        }
        int[] order = shuffle((int) trainRows, epochSeed(seed, e));
        cached = new Epoch(e, order);
        return order;
    }

    /** Fisher–Yates over [0, n): for i = n-1 down to 1, swap i with a uniform j in [0, i]. */
    private static int[] shuffle(int n, long epochSeed) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(epochSeed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** SplitMix64's output function (Stafford variant 13), as in java.util.SplittableRandom. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private void checkStep(long globalStep) {
        if (globalStep < 0 || globalStep > Long.MAX_VALUE / batchSize - 1) {
            throw new IllegalArgumentException("global step " + globalStep + " is outside [0, "
                    + (Long.MAX_VALUE / batchSize - 1) + "] for batch size " + batchSize);
        }
    }

    /** Re-validates after deserialization; the permutation cache starts empty. */
    @Serial
    private Object readResolve() {
        return of(seed, trainRows, batchSize, replicas);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BatchPlan p && p.seed == seed && p.trainRows == trainRows && p.batchSize == batchSize
                && p.replicas == replicas;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(seed, trainRows, batchSize, replicas);
    }

    @Override
    public String toString() {
        return "BatchPlan[seed=" + seed + ", trainRows=" + trainRows + ", batchSize=" + batchSize + ", replicas="
                + replicas + "]";
    }
}
