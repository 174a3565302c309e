package io.sparkseek.data.shard;

/** {@code manifest.json} is missing, unreadable or invalid; the message names the file and the field. */
public final class ManifestException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ManifestException(String message) {
        super(message);
    }

    public ManifestException(String message, Throwable cause) {
        super(message, cause);
    }
}
