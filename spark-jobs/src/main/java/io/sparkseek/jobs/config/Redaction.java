package io.sparkseek.jobs.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Keeps secrets out of what SparkSeek prints and stores: a setting whose key looks like a credential
 * ({@link #SECRET_KEY}: {@code fs.s3a.secret.key}, {@code fs.s3a.access.key}, {@code fs.s3a.session.token},
 * {@code spark.ssl.keyPassword}, {@code ...credentials...}) shows {@link #REDACTED} instead of its value. Used by
 * the resolved-settings printout at start and the run config stored in every checkpoint's
 * {@code trainer_state.json}; Spark redacts its own conf dumps with {@code spark.redaction.regex}.
 */
public final class Redaction {
    /** Keys whose values are never printed or stored. */
    public static final Pattern SECRET_KEY =
            Pattern.compile("(?i)(secret|password|token|credential|access\\.key|session\\.key)");
    /** What a secret value is replaced by. */
    public static final String REDACTED = "*********(redacted)";

    private Redaction() {
    }

    /** True when {@code key} names a secret. */
    public static boolean isSecret(String key) {
        return SECRET_KEY.matcher(key).find();
    }

    /** {@code value}, or {@link #REDACTED} when {@code key} names a secret. */
    public static String value(String key, String value) {
        return isSecret(key) ? REDACTED : value;
    }

    /** A copy of {@code settings} (same order) with every secret's value replaced by {@link #REDACTED}. */
    public static Map<String, String> redact(Map<String, String> settings) {
        Map<String, String> out = new LinkedHashMap<>();
        settings.forEach((k, v) -> out.put(k, value(k, v)));
        return Collections.unmodifiableMap(out);
    }
}
