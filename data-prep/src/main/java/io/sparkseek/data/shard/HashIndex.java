package io.sparkseek.data.shard;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The exact-dedup hashes of documents already prepared, kept across incremental runs (manifest key
 * {@code dedup_index}). Layout, big-endian: magic {@code "SSHX"}, int version ({@value #VERSION}),
 * long count, then count longs in strictly ascending (signed) order. Checked on read like shards.
 */
public final class HashIndex {
    public static final int VERSION = 1;
    private static final byte[] MAGIC = "SSHX".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER_BYTES = MAGIC.length + Integer.BYTES + Long.BYTES;

    private HashIndex() {}

    /**
     * Writes {@code sortedHashes} (strictly ascending: {@code Arrays.sort} then drop duplicates) to
     * {@code dataDir/relativePath}, which must not exist. Returns its manifest entry: sequences = count of
     * hashes, tokens = 0, with the size and sha256 of the bytes written.
     */
    public static ShardInfo write(FileSystem fs, Path dataDir, String relativePath, long[] sortedHashes)
            throws IOException {
        for (int i = 1; i < sortedHashes.length; i++) {
            if (sortedHashes[i - 1] >= sortedHashes[i]) {
                throw new IllegalArgumentException("hash index " + relativePath + ": hashes must be strictly ascending"
                        + " (sort with Arrays.sort and drop duplicates); position " + i + " breaks the order");
            }
        }
        Path file = ShardFiles.resolve(dataDir, relativePath);
        FSDataOutputStream out = fs.create(file, false);
        HashingOutputStream hashing = new HashingOutputStream(out);
        try (DataOutputStream data = new DataOutputStream(new BufferedOutputStream(hashing, 1 << 16))) {
            data.write(MAGIC);
            data.writeInt(VERSION);
            data.writeLong(sortedHashes.length);
            for (long h : sortedHashes) {
                data.writeLong(h);
            }
        } catch (IOException | RuntimeException | Error e) {
            ShardFiles.abandon(out, e);
            ShardFiles.deleteQuietly(fs, file, e);
            throw new IOException("could not write hash index " + relativePath + " (" + file + "); the partial file"
                    + " was deleted: " + e, e);
        }
        return new ShardInfo(relativePath, sortedHashes.length, 0, hashing.count(), hashing.sha256());
    }

    /** Reads a hash index after checking its size and sha256 against {@code info}, then its header. */
    public static long[] read(FileSystem fs, Path dataDir, ShardInfo info) throws IOException {
        byte[] bytes = ShardFiles.readVerified(fs, dataDir, info, "hash index");
        String fix = "; re-run prep with --dedup exact into a new output dir or restore the file";
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        if (bytes.length < HEADER_BYTES || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new CorruptShardException("hash index " + info.path() + " in " + dataDir
                    + " does not start with the magic SSHX; it is not a sparkseek hash index" + fix);
        }
        buf.position(MAGIC.length);
        int version = buf.getInt();
        if (version != VERSION) {
            throw new CorruptShardException("hash index " + info.path() + " in " + dataDir + " has version " + version
                    + "; this build reads version " + VERSION + " (use the build that wrote it, or re-run prep)");
        }
        long count = buf.getLong();
        if (count != info.count() || count != (bytes.length - HEADER_BYTES) / Long.BYTES
                || (bytes.length - HEADER_BYTES) % Long.BYTES != 0) {
            throw new CorruptShardException("hash index " + info.path() + " in " + dataDir + " says " + count
                    + " hashes, its manifest entry " + info.count() + ", its size " + bytes.length + " bytes" + fix);
        }
        long[] hashes = new long[(int) count];
        buf.asLongBuffer().get(hashes);
        for (int i = 1; i < hashes.length; i++) {
            if (hashes[i - 1] >= hashes[i]) {
                throw new CorruptShardException("hash index " + info.path() + " in " + dataDir
                        + " is not strictly ascending at position " + i + fix);
            }
        }
        return hashes;
    }

    /** Whether {@code hash} is in an array read by {@link #read}. */
    public static boolean contains(long[] sortedHashes, long hash) {
        return Arrays.binarySearch(sortedHashes, hash) >= 0;
    }
}
