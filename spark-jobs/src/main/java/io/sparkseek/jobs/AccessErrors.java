package io.sparkseek.jobs;

import java.nio.file.AccessDeniedException;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns an S3 store's refusal (S3A raises {@link AccessDeniedException} for HTTP 401/403, with the path as its
 * file and the S3 error code at the end of its reason) into a sentence that names the path, says whether the
 * credentials or the permissions were refused, and where the credentials come from. The AWS SDK's own text
 * (request ids, "Forbidden") stays out of the one-line CLI error.
 */
public final class AccessErrors {
    /** S3 error codes that mean the credentials themselves were refused, with what each means. */
    private static final Map<String, String> CREDENTIAL_CODES = Map.of(
            "SignatureDoesNotMatch", "the secret key does not match the access key",
            "InvalidAccessKeyId", "the store does not know the access key",
            "InvalidToken", "the session token is not valid",
            "ExpiredToken", "the session token has expired",
            "TokenRefreshRequired", "the session token has expired",
            "InvalidClientTokenId", "the store does not know the access key");
    /** The error code S3A appends to the reason: {@code ...(SDK Attempt Count: 1):SignatureDoesNotMatch}. */
    private static final Pattern CODE = Pattern.compile(":([A-Za-z]+)\\s*$");
    private static final Pattern STATUS = Pattern.compile("Status Code: (\\d{3})");
    static final String WHERE_CREDENTIALS = "S3A takes them from fs.s3a.access.key / fs.s3a.secret.key or the "
            + "environment's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (docs/data-prep.md, \"S3 (s3a://)\")";

    private AccessErrors() {
    }

    /**
     * The message of {@code top} with the first {@link AccessDeniedException} in its cause chain (itself included)
     * described by {@link #describe}; empty when there is none.
     */
    public static Optional<String> message(Throwable top) {
        for (Throwable t = top; t != null; t = t.getCause()) {
            if (t instanceof AccessDeniedException denied && fromS3(denied)) {
                String what = describe(denied);
                if (t == top) {
                    return Optional.of(what);
                }
                String m = top.getMessage() == null ? "" : top.getMessage();
                if (m.contains(what)) {
                    return Optional.of(m);   // already described where it was caught (e.g. by Retry)
                }
                String raw = denied.toString();
                return Optional.of(m.contains(raw) ? m.replace(raw, what) : (m.isEmpty() ? what : m + ": " + what));
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return Optional.empty();
    }

    /**
     * One sentence: the path, then "the store refused the credentials (HTTP STATUS CODE: meaning)", "the store
     * denied access (HTTP STATUS CODE): the credentials ... lack permission" or, without an S3 error code (a HEAD
     * request's 403), "the credentials are wrong or lack permission"; then where credentials come from.
     */
    public static String describe(AccessDeniedException e) {
        String path = e.getFile() == null ? "the object store" : e.getFile();
        String reason = e.getReason() == null ? "" : e.getReason().strip();
        Matcher code = CODE.matcher(reason);
        Matcher status = STATUS.matcher(reason);
        String http = status.find() ? status.group(1) : "403";
        if (code.find() && !code.group(1).equals("null")) {
            String meaning = CREDENTIAL_CODES.get(code.group(1));
            if (meaning != null) {
                return path + ": the store refused the credentials (HTTP " + http + " " + code.group(1) + ": "
                        + meaning + "); " + WHERE_CREDENTIALS;
            }
            return path + ": the store denied access (HTTP " + http + " " + code.group(1) + "): the credentials "
                    + "were accepted but lack permission for this bucket or path; " + WHERE_CREDENTIALS;
        }
        // no S3 error code: a HEAD request's 403 has no body to carry one
        return path + ": the store refused the request (HTTP " + http + ", no error code given): the credentials are "
                + "wrong or lack permission for this bucket or path; " + WHERE_CREDENTIALS;
    }

    /** S3A's refusals name an {@code s3a://} path or carry the SDK's "Service: S3"; a local file's do neither. */
    public static boolean fromS3(AccessDeniedException e) {
        String file = e.getFile() == null ? "" : e.getFile();
        String reason = e.getReason() == null ? "" : e.getReason();
        return file.startsWith("s3a://") || file.startsWith("s3://") || reason.contains("Service: S3");
    }

}
