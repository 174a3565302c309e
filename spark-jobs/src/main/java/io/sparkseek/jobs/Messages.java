package io.sparkseek.jobs;

/** Error text for one-line CLI messages: object stores and Spark put request dumps and stack traces after line 1. */
public final class Messages {
    private Messages() {
    }

    /** The first line of {@code s}. */
    public static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** The first line of {@code e}'s message, or its class name when it has none. */
    public static String firstLine(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : firstLine(e.getMessage());
    }
}
