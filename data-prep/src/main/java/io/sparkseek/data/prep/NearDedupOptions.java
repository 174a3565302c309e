package io.sparkseek.data.prep;

/**
 * Settings of {@link NearDedup#find}, validated once here.
 *
 * @param threshold     Jaccard similarity of two documents' character-shingle sets at or above which they are
 *                      near-duplicates; in (0, 1]
 * @param shingleChars  shingle length in characters (code points) of the normalised text; at least 1
 * @param numHashTables MinHash functions (MLlib's "hash tables", OR-amplified: a pair is a candidate when any one
 *                      matches); at least 1. A pair of similarity s is missed with probability (1 - s)^numHashTables
 * @param seed          seed of the MinHash functions; with the same seed the result is the same on every run
 */
public record NearDedupOptions(double threshold, int shingleChars, int numHashTables, long seed) {

    public static final double DEFAULT_THRESHOLD = 0.8;
    public static final int DEFAULT_SHINGLE_CHARS = 5;
    /**
     * A pair at similarity 0.8 is missed with probability 0.2^4 = 0.0016 (0.9: 0.0001). MLlib's join works through
     * every pair sharing any one MinHash: a fraction 1 - (1 - J)^tables of all pairs, J being unrelated documents'
     * similarity (~0.06 for 5-character shingles of English prose). Measured on NearDedupTest's planted corpus:
     * recall 1.0 from 2 tables up, 0.94 with 1; time about proportional to those pairs (4 tables ~0.6 of 8's).
     */
    public static final int DEFAULT_NUM_HASH_TABLES = 4;
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
