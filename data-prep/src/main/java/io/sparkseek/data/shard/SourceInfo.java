package io.sparkseek.data.shard;

/**
 * One input file already prepared into the data dir: its URI, size in bytes, modification time
 * (milliseconds since the epoch, as the file system reports it) and the number of documents read from it.
 * An incremental prep run skips sources whose (uri, size, modified) are already listed.
 */
public record SourceInfo(String uri, long size, long modified, long docs) {
    public SourceInfo {
        Checks.nonEmpty(uri, "uri");
        Checks.nonNegative(size, "size of " + uri);
        Checks.nonNegative(docs, "docs of " + uri);
    }
}
