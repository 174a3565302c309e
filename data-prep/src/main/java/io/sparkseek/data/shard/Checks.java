package io.sparkseek.data.shard;

import java.util.HexFormat;
import java.util.regex.Pattern;

/** Argument checks shared by the manifest records: relative paths and sha256 strings. */
final class Checks {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private Checks() {}

    /**
     * A path relative to the data dir that cannot leave it: not empty, no leading '/', no '\', no ':'
     * (schemes, drive letters), no empty, "." or ".." segments.
     */
    static String relativePath(String path, String field) {
        if (path == null || path.isEmpty()) {
            throw new IllegalArgumentException(field + " is missing or empty");
        }
        if (path.startsWith("/") || path.indexOf('\\') >= 0 || path.indexOf(':') >= 0) {
            throw new IllegalArgumentException(field + " '" + path + "' must be a relative path inside the data dir"
                    + " (no leading '/', no scheme, no '\\')");
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException(field + " '" + path + "' must stay inside the data dir"
                        + " (no '..', '.' or empty segments)");
            }
        }
        return path;
    }

    static String sha256(String hex, String field) {
        if (hex == null || !SHA256.matcher(hex).matches()) {
            throw new IllegalArgumentException(field + " must be 64 lowercase hex digits (a sha256), got " + quote(hex));
        }
        return hex;
    }

    static long nonNegative(long value, String field) {
        if (value < 0) {
            throw new IllegalArgumentException(field + " must be >= 0, got " + value);
        }
        return value;
    }

    static String nonEmpty(String value, String field) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(field + " is missing or empty");
        }
        return value;
    }

    static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }

    private static String quote(String s) {
        return s == null ? "null" : "'" + s + "'";
    }
}
