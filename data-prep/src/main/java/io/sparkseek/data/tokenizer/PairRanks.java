package io.sparkseek.data.tokenizer;

import java.util.Arrays;

/**
 * An open-addressing map from a token pair (left id, right id) to its merge rank, so the BPE inner loop looks merges
 * up without boxing. Built once, then read-only (safe to share between threads).
 */
final class PairRanks {
    private static final long EMPTY = -1L;
    private static final double MAX_LOAD = 0.5;
    /** 64-bit golden-ratio multiplier (Fibonacci hashing). */
    private static final long HASH_MULTIPLIER = 0x9E3779B97F4A7C15L;

    private final long[] keys;
    private final int[] ranks;
    private final int shift;

    PairRanks(int[] lefts, int[] rights) {
        int capacity = Integer.highestOneBit((int) Math.max(2, lefts.length / MAX_LOAD)) * 2;
        keys = new long[capacity];
        ranks = new int[capacity];
        Arrays.fill(keys, EMPTY);
        shift = Long.numberOfLeadingZeros(capacity - 1L);
        for (int r = 0; r < lefts.length; r++) {
            long key = key(lefts[r], rights[r]);
            int slot = slot(key);
            while (keys[slot] != EMPTY && keys[slot] != key) {
                slot = (slot + 1) & (capacity - 1);
            }
            keys[slot] = key; // HF collects merges into a map: a repeated merge line keeps its last rank
            ranks[slot] = r;
        }
    }

    static long key(int left, int right) {
        return ((long) left << Integer.SIZE) | (right & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        return (int) ((key * HASH_MULTIPLIER) >>> shift);
    }

    /** The rank of merging (left, right), or -1 when there is no such merge. */
    int rank(int left, int right) {
        long key = key(left, right);
        int mask = keys.length - 1;
        for (int slot = slot(key); ; slot = (slot + 1) & mask) {
            long k = keys[slot];
            if (k == key) {
                return ranks[slot];
            }
            if (k == EMPTY) {
                return -1;
            }
        }
    }
}
