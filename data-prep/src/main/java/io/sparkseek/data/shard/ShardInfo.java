package io.sparkseek.data.shard;

/**
 * One file listed in {@code manifest.json}.
 *
 * <p>For a token shard: {@code path} relative to the data dir (e.g. {@code train/part-00000-00003.arrow}),
 * {@code sequences} rows, {@code tokens} = sequences × (seq_len + 1), {@code bytes} and {@code sha256} of
 * the whole file. For a {@link HashIndex} file (manifest key {@code dedup_index}): {@code sequences} is the
 * number of hashes (written as {@code count}) and {@code tokens} is 0.
 */
public record ShardInfo(String path, long sequences, long tokens, long bytes, String sha256)
        implements java.io.Serializable {
    public ShardInfo {
        Checks.relativePath(path, "path");
        Checks.nonNegative(sequences, "sequences of " + path);
        Checks.nonNegative(tokens, "tokens of " + path);
        Checks.nonNegative(bytes, "bytes of " + path);
        Checks.sha256(sha256, "sha256 of " + path);
    }

    /** The number of hashes of a {@link HashIndex} entry (same as {@link #sequences()}). */
    public long count() {
        return sequences;
    }
}
