package io.sparkseek.data.shard;

/**
 * A file listed in the manifest (token shard or hash index) is missing, has the wrong size or checksum,
 * or does not have the documented layout. The message names the file and the fix.
 */
public final class CorruptShardException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CorruptShardException(String message) {
        super(message);
    }

    public CorruptShardException(String message, Throwable cause) {
        super(message, cause);
    }
}
