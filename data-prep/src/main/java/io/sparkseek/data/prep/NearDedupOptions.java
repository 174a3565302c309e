package io.sparkseek.data.prep;

/**
 * Settings of {@link NearDedup#find}, validated once here.
 *
 * @param threshold     Jaccard similarity of two documents' character-shingle sets at or above which they are
 *                      near-duplicates; in (0, 1]
 * @param shingleChars  shingle length in characters (code points) of the normalised text; at least 1
 * @param numHashTables MinHash functions (MLlib's "hash tables"); at least 1. They are cut into bands by
 *                      {@link Banding#forThreshold} (AND-OR amplification)
 * @param seed          seed of the MinHash functions; with the same seed the result is the same on every run
 */
public record NearDedupOptions(double threshold, int shingleChars, int numHashTables, long seed) {

    public static final double DEFAULT_THRESHOLD = 0.8;
    public static final int DEFAULT_SHINGLE_CHARS = 5;
    /**
     * 120 MinHash values: 24 bands of 5 at threshold 0.8, so a pair at 0.8 is missed with probability 7e-5, while
     * unrelated English documents (5-shingle similarity ~0.06) become candidates with probability ~2e-5. Computing
     * the 120 values is a small share of the time; see {@link Banding}.
     */
    public static final int DEFAULT_NUM_HASH_TABLES = 120;
    public static final long DEFAULT_SEED = 20_261_128L;

    public NearDedupOptions {
        if (!(threshold > 0.0 && threshold <= 1.0)) {
            throw new IllegalArgumentException("threshold must be in (0, 1], was " + threshold);
        }
        if (shingleChars < 1) {
            throw new IllegalArgumentException("shingleChars must be at least 1, was " + shingleChars);
        }
        if (numHashTables < 1) {
            throw new IllegalArgumentException("numHashTables must be at least 1, was " + numHashTables);
        }
    }

    public static NearDedupOptions defaults() {
        return new NearDedupOptions(DEFAULT_THRESHOLD, DEFAULT_SHINGLE_CHARS, DEFAULT_NUM_HASH_TABLES, DEFAULT_SEED);
    }

    public NearDedupOptions withThreshold(double value) {
        return new NearDedupOptions(value, shingleChars, numHashTables, seed);
    }

    public NearDedupOptions withNumHashTables(int value) {
        return new NearDedupOptions(threshold, shingleChars, value, seed);
    }

    public NearDedupOptions withSeed(long value) {
        return new NearDedupOptions(threshold, shingleChars, numHashTables, value);
    }
}
