package io.sparkseek.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;

import org.junit.jupiter.api.Test;

/**
 * {@link AccessErrors}: S3A's 403 exceptions (as S3A builds them: the path as the file, the SDK's text with the
 * S3 error code last) become one sentence naming the path and whose fault it is; other exceptions are left alone.
 */
class AccessErrorsTest {

    private static AccessDeniedException s3a(String path, String code) {
        return new AccessDeniedException(path, null, "listObjects() on " + path + ": software.amazon.awssdk.services"
                + ".s3.model.S3Exception: Forbidden (Service: S3, Status Code: 403, Request ID: 4442587FB7D0A2F9) "
                + "(SDK Attempt Count: 1):" + code);
    }

    @Test
    void aWrongSecretIsNamedAsRefusedCredentialsForThePath() {
        AccessDeniedException denied = s3a("s3a://data/corpus", "SignatureDoesNotMatch");
        IOException top = new IOException("cannot list input s3a://data/corpus/*.jsonl: " + denied, denied);
        String m = AccessErrors.message(top).orElseThrow();
        assertThat(m).startsWith("cannot list input s3a://data/corpus/*.jsonl: s3a://data/corpus: the store "
                + "refused the credentials (HTTP 403 SignatureDoesNotMatch: the secret key does not match the access "
                + "key); S3A takes them from").contains("AWS_SECRET_ACCESS_KEY").doesNotContain("Request ID")
                .doesNotContain("\n");
        assertThat(AccessErrors.message(denied).orElseThrow()).startsWith("s3a://data/corpus: the store refused");
    }

    @Test
    void anUnknownKeyAndMissingPermissionsAreTold() {
        assertThat(AccessErrors.describe(s3a("s3a://b/k", "InvalidAccessKeyId")))
                .contains("refused the credentials (HTTP 403 InvalidAccessKeyId: the store does not know the "
                        + "access key)");
        assertThat(AccessErrors.describe(s3a("s3a://b/k", "AccessDenied")))
                .startsWith("s3a://b/k: the store denied access (HTTP 403 AccessDenied): the credentials were "
                        + "accepted but lack permission");
    }

    @Test
    void aRefusedHeadRequestWithoutAnErrorCodeBlamesCredentialsOrPermissions() {
        String m = AccessErrors.describe(s3a("s3a://b/run/checkpoints/latest", "null"));
        assertThat(m).startsWith("s3a://b/run/checkpoints/latest: the store refused the request (HTTP 403, no error "
                + "code given): the credentials are wrong or lack permission for this bucket or path; S3A takes them");
    }

    @Test
    void otherErrorsAndLocalFilesAreLeftAlone() {
        assertThat(AccessErrors.message(new IOException("disk full"))).isEmpty();
        AccessDeniedException local = new AccessDeniedException("/root/x");
        assertThat(AccessErrors.message(new IOException("cannot write /root/x", local))).isEmpty();
    }
}
