package io.sparkseek.jobs.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * {@link Redaction}: which keys are secrets, and that the settings printout ({@link RunConfigLoader#describe}) and
 * the run config stored in checkpoints never show a secret's value.
 */
class RedactionTest {

    @Test
    void credentialKeysAreSecretsAndOrdinarySettingsAreNot() {
        List<String> secrets = List.of("fs.s3a.secret.key", "fs.s3a.access.key", "fs.s3a.session.token",
                "spark.hadoop.fs.s3a.secret.key", "spark.hadoop.fs.s3a.bucket.data.secret.key", "FS.S3A.SECRET.KEY",
                "fs.s3a.aws.credentials.provider", "spark.ssl.keyPassword", "fs.azure.sas.token", "x.session.key",
                "AWS_SECRET_ACCESS_KEY");
        List<String> plain = List.of("fs.s3a.endpoint", "fs.s3a.path.style.access", "fs.s3a.endpoint.region",
                "sparkseek.train.lr", "sparkseek.checkpoint.keep", "spark.master", "fs.s3a.accesspoint.required");
        secrets.forEach(k -> assertThat(Redaction.isSecret(k)).as(k).isTrue());
        plain.forEach(k -> assertThat(Redaction.isSecret(k)).as(k).isFalse());
    }

    @Test
    void redactKeepsOrderAndHidesOnlySecretValues() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("fs.s3a.endpoint", "http://127.0.0.1:9878");
        m.put("fs.s3a.secret.key", "s3cr3t-value");
        m.put("fs.s3a.access.key", "AKIAEXAMPLE");
        Map<String, String> r = Redaction.redact(m);
        assertThat(r.keySet()).containsExactly("fs.s3a.endpoint", "fs.s3a.secret.key", "fs.s3a.access.key");
        assertThat(r).containsEntry("fs.s3a.endpoint", "http://127.0.0.1:9878")
                .containsEntry("fs.s3a.secret.key", Redaction.REDACTED)
                .containsEntry("fs.s3a.access.key", Redaction.REDACTED);
    }

    @Test
    void theSettingsPrintoutNeverShowsASecret() {
        Map<String, String> m = new LinkedHashMap<>(RunConfigLoader.asMap(RunConfigLoader.fromMap(
                RunConfigLoader.loadDefaults())));
        m.put("fs.s3a.secret.key", "s3cr3t-value");
        m.put("fs.s3a.session.token", "tok-value");
        String text = RunConfigLoader.describe(m, Map.of("fs.s3a.secret.key", "--conf"));
        assertThat(text).doesNotContain("s3cr3t-value").doesNotContain("tok-value")
                .contains("fs.s3a.secret.key").contains(Redaction.REDACTED + "  (--conf)")
                .contains("sparkseek.train.lr");
        // a run config as printed at start and stored in trainer_state.json: no secret keys today, and none leak
        Map<String, String> stored = Redaction.redact(RunConfigLoader.asMap(RunConfigLoader.fromMap(
                RunConfigLoader.loadDefaults())));
        assertThat(stored).isEqualTo(RunConfigLoader.asMap(RunConfigLoader.fromMap(RunConfigLoader.loadDefaults())));
    }
}
