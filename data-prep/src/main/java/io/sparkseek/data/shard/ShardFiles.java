package io.sparkseek.data.shard;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;

/** Hadoop file helpers: checked whole-file reads, streaming sha256, giving up on a half-written file. */
final class ShardFiles {
    /** Whole files are read into one array; larger shards must be split by the writer. */
    static final long MAX_WHOLE_FILE_BYTES = Integer.MAX_VALUE - 64;
    private static final int BUFFER = 1 << 16;

    private ShardFiles() {}

    /** {@code dataDir/relativePath}; relativePath is checked to stay inside the dir. */
    static Path resolve(Path dataDir, String relativePath) {
        return new Path(dataDir, Checks.relativePath(relativePath, "path"));
    }

    /**
     * Reads a listed file whole and checks its size and sha256 against the manifest before anyone parses
     * it. {@code what} names the file kind in errors ("shard", "hash index").
     */
    static byte[] readVerified(FileSystem fs, Path dataDir, ShardInfo info, String what) throws IOException {
        Path file = resolve(dataDir, info.path());
        String fix = "; re-run `scripts/sparkseek prep` into a new output dir or restore the file from a copy";
        if (info.bytes() > MAX_WHOLE_FILE_BYTES) {
            throw new CorruptShardException(what + " " + info.path() + " in " + dataDir + " is listed with "
                    + info.bytes() + " bytes, more than the " + MAX_WHOLE_FILE_BYTES + " that can be read at once");
        }
        long length;
        try {
            length = fs.getFileStatus(file).getLen();
        } catch (FileNotFoundException e) {
            throw new CorruptShardException(what + " " + info.path() + " is listed in the manifest of " + dataDir
                    + " but the file " + file + " does not exist" + fix, e);
        }
        if (length != info.bytes()) {
            throw new CorruptShardException(what + " " + info.path() + " (" + file + ") has " + length
                    + " bytes but the manifest lists " + info.bytes() + " (truncated or overwritten)" + fix);
        }
        byte[] bytes = new byte[(int) info.bytes()];
        MessageDigest digest = HashingOutputStream.newSha256();
        try (FSDataInputStream in = fs.open(file)) {
            readHashing(in, bytes, digest, info, file, what, fix);
        } catch (ChecksumException e) {
            throw new CorruptShardException(what + " " + info.path() + " (" + file + ") is corrupt: the file system's"
                    + " own checksum failed (" + e.getMessage() + ")" + fix, e);
        }
        String actual = Checks.hex(digest.digest());
        if (!actual.equals(info.sha256())) {
            throw new CorruptShardException(what + " " + info.path() + " (" + file + ") is corrupt: sha256 expected "
                    + info.sha256() + " but the file has " + actual + fix);
        }
        return bytes;
    }

    private static void readHashing(FSDataInputStream in, byte[] bytes, MessageDigest digest, ShardInfo info,
            Path file, String what, String fix) throws IOException {
        int done = 0;
        while (done < bytes.length) {
            int n = in.read(bytes, done, Math.min(BUFFER, bytes.length - done));
            if (n < 0) {
                throw new CorruptShardException(what + " " + info.path() + " (" + file + ") ended after " + done
                        + " bytes but the manifest lists " + info.bytes() + fix);
            }
            digest.update(bytes, done, n);
            done += n;
        }
        if (in.read() >= 0) {
            throw new CorruptShardException(what + " " + info.path() + " (" + file + ") is longer than the "
                    + info.bytes() + " bytes the manifest lists" + fix);
        }
    }

    /** Streaming hex sha256 of a whole file. */
    static String sha256(FileSystem fs, Path file) throws IOException {
        MessageDigest digest = HashingOutputStream.newSha256();
        byte[] buf = new byte[BUFFER];
        try (InputStream in = fs.open(file)) {
            for (int n; (n = in.read(buf)) >= 0; ) {
                digest.update(buf, 0, n);
            }
        }
        return Checks.hex(digest.digest());
    }

    /**
     * Ends a stream whose writing failed without publishing it where possible: object-store streams that
     * can abort (S3A) are aborted, so closing does not upload half a file; others are closed. Never throws.
     */
    static void abandon(FSDataOutputStream out, Throwable failure) {
        if (out == null) {
            return;
        }
        try {
            if (out.hasCapability(StreamCapabilities.ABORTABLE_STREAM)) {
                out.abort();
            } else {
                out.close();
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** Deletes a file we created and failed to finish; never throws. */
    static void deleteQuietly(FileSystem fs, Path file, Throwable failure) {
        try {
            fs.delete(file, false);
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }
}
