package io.sparkseek.data.prep;

/** Input that prep cannot use under the chosen policy; the message names the file, the record and the fix. */
public final class PrepInputException extends RuntimeException {
    public PrepInputException(String message) {
        super(message);
    }

    public PrepInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
