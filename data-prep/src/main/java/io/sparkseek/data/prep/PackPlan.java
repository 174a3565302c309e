package io.sparkseek.data.prep;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where every token of one split of one run goes (ARCHITECTURE §3). The documents, in key order, each followed by
 * EOS, form one token stream; it is cut into windows of {@code window = seqLen + 1} tokens with no overlap, and
 * the windows fill shards of {@code rowsPerShard} rows in order. Tail policy: the last {@code totalTokens mod
 * window} tokens, fewer than one window, are dropped and counted (they are never padded, so every target in a
 * shard is real text or EOS). Decoding the windows of a split in shard order gives back the stream.
 *
 * <p>The driver builds the plan from each document's key and token count; tasks call {@link #fragments} on their
 * documents, and each shard is then assembled from its fragments by offset.
 */
public final class PackPlan implements Serializable {
    private final long[] keys;
    private final long[] offsets;
    private final int window;
    private final int rowsPerShard;
    private final long totalTokens;
    private final long windows;

    private PackPlan(long[] keys, long[] offsets, long totalTokens, int window, int rowsPerShard) {
        this.keys = keys;
        this.offsets = offsets;
        this.totalTokens = totalTokens;
        this.window = window;
        this.rowsPerShard = rowsPerShard;
        this.windows = totalTokens / window;
    }

    /**
     * @param keys    document keys, strictly ascending
     * @param lengths token count of each document, EOS included
     */
    public static PackPlan of(long[] keys, int[] lengths, int window, int rowsPerShard) {
        if (keys.length != lengths.length) {
            throw new IllegalArgumentException("keys and lengths differ in length");
        }
        if (window < 2 || rowsPerShard < 1) {
            throw new IllegalArgumentException("window must be >= 2 and rowsPerShard >= 1");
        }
        long[] offsets = new long[keys.length];
        long off = 0;
        for (int i = 0; i < keys.length; i++) {
            if (i > 0 && keys[i] <= keys[i - 1]) {
                throw new IllegalArgumentException("document keys must be strictly ascending at index " + i);
            }
            offsets[i] = off;
            off += lengths[i];
        }
        return new PackPlan(keys.clone(), offsets, off, window, rowsPerShard);
    }

    public long totalTokens() {
        return totalTokens;
    }

    /** Full windows (shard rows) in this split. */
    public long windows() {
        return windows;
    }

    /** Tokens beyond the last full window, dropped. */
    public long droppedTailTokens() {
        return totalTokens - windows * window;
    }

    public int shards() {
        return (int) ((windows + rowsPerShard - 1) / rowsPerShard);
    }

    public int rowsInShard(int shard) {
        return (int) Math.min(rowsPerShard, windows - (long) shard * rowsPerShard);
    }

    /** A piece of one document that lands in one shard, at {@code offset} tokens from the shard's start. */
    public record Fragment(int shard, int offset, int[] tokens) implements Serializable {
    }

    /** The pieces of document {@code key} (its tokens, EOS included), cut at shard ends; the dropped tail omitted. */
    public List<Fragment> fragments(long key, int[] tokens) {
        int i = Arrays.binarySearch(keys, key);
        if (i < 0) {
            throw new IllegalArgumentException("document " + key + " is not in the pack plan");
        }
        long start = offsets[i];
        long end = Math.min(start + tokens.length, windows * window);
        long shardTokens = (long) rowsPerShard * window;
        List<Fragment> out = new ArrayList<>(2);
        for (long pos = start; pos < end; ) {
            int shard = (int) (pos / shardTokens);
            long shardEnd = Math.min((shard + 1) * shardTokens, end);
            int from = (int) (pos - start);
            int to = (int) (shardEnd - start);
            out.add(new Fragment(shard, (int) (pos - shard * shardTokens), Arrays.copyOfRange(tokens, from, to)));
            pos = shardEnd;
        }
        return out;
    }

    /** The rows of {@code shard} from all of its fragments; fails if they do not cover it exactly once. */
    public int[] assemble(int shard, Iterable<Fragment> fragments) {
        int[] rows = new int[rowsInShard(shard) * window];
        long covered = 0;
        for (Fragment f : fragments) {
            if (f.shard() != shard) {
                throw new IllegalStateException("fragment of shard " + f.shard() + " given to shard " + shard);
            }
            System.arraycopy(f.tokens(), 0, rows, f.offset(), f.tokens().length);
            covered += f.tokens().length;
        }
        if (covered != rows.length) {
            throw new IllegalStateException("shard " + shard + " got " + covered + " tokens from its fragments, expected "
                    + rows.length);
        }
        return rows;
    }
}
