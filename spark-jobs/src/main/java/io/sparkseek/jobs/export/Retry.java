package io.sparkseek.jobs.export;

import io.sparkseek.jobs.AccessErrors;
import io.sparkseek.jobs.Messages;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;

/**
 * Retries one file-system operation with exponential backoff. Errors that another try cannot fix (access denied,
 * described by {@link AccessErrors}; not found; interrupted) fail at once; the final error says what was attempted
 * and how often.
 *
 * @param attempts  tries in total, at least 1
 * @param backoffMs wait before the second try; doubled after each failure, capped at {@link #MAX_BACKOFF_MS}
 */
public record Retry(int attempts, long backoffMs, PrintStream log) {
    /** Longest single wait between tries. */
    public static final long MAX_BACKOFF_MS = 30_000;

    public Retry {
        if (attempts < 1) {
            throw new IllegalArgumentException("retry attempts must be >= 1, got " + attempts);
        }
        if (backoffMs < 0) {
            throw new IllegalArgumentException("retry backoff must be >= 0 ms, got " + backoffMs);
        }
    }

    /** An operation that may throw an IOException. */
    @FunctionalInterface
    public interface Op<T> {
        T run() throws IOException;
    }

    /** Runs {@code op}, retrying transient IOExceptions; {@code what} names the operation in messages. */
    public <T> T call(String what, Op<T> op) throws IOException {
        long wait = backoffMs;
        for (int attempt = 1; ; attempt++) {
            try {
                return op.run();
            } catch (AccessDeniedException e) {
                throw new IOException(what + ": " + (AccessErrors.fromS3(e) ? AccessErrors.describe(e)
                        : "permission denied (" + Messages.firstLine(e) + ")"), e);
            } catch (FileNotFoundException | InterruptedIOException e) {
                throw new IOException(what + ": " + Messages.firstLine(e), e);
            } catch (IOException e) {
                if (attempt >= attempts) {
                    throw new IOException(what + " failed after " + attempts + " attempt" + (attempts == 1 ? "" : "s")
                            + ": " + Messages.firstLine(e), e);
                }
                log.printf("%s failed (attempt %d of %d: %s); retrying in %.1f s%n", what, attempt, attempts,
                        Messages.firstLine(e), wait / 1000.0);
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException(what + ": interrupted while waiting to retry");
                }
                wait = Math.min(MAX_BACKOFF_MS, Math.max(1, wait * 2));
            }
        }
    }
}
