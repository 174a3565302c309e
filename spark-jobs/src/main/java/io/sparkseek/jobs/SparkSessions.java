package io.sparkseek.jobs;

import io.sparkseek.jobs.config.RunConfigLoader;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The SparkSession of a job: under {@code spark-submit} the master and settings come from it; started directly
 * (scripts/sparkseek without SPARK_HOME) Spark runs embedded on {@code local[*]}, and its settings come from
 * {@code spark.*} system properties ({@code SPARKSEEK_JAVA_OPTS="-Dspark.hadoop.fs.s3a.endpoint=..."}), which
 * SparkConf reads. Either way {@code spark.hadoop.X} reaches the jobs' Hadoop Configuration as {@code X}.
 */
public final class SparkSessions {
    /** The prefix of the S3A settings in a Hadoop Configuration. */
    static final String S3A_PREFIX = "fs.s3a.";

    private SparkSessions() {
    }

    public static SparkSession getOrCreate(String appName) {
        SparkConf conf = new SparkConf();
        SparkSession.Builder b = SparkSession.builder().appName(appName);
        if (!conf.contains("spark.master")) {
            b = b.master("local[*]").config("spark.ui.showConsoleProgress", "true");
        }
        return b.getOrCreate();
    }

    /** "Spark 4.2.0, master spark://..., application app-..." for the start of a job's output. */
    public static String describe(SparkSession spark) {
        return "Spark " + spark.version() + ", master " + spark.sparkContext().master() + ", application "
                + spark.sparkContext().applicationId();
    }

    /**
     * For the start-up printout when any of {@code uris} is {@code s3a://}: the job's Hadoop {@code fs.s3a.*}
     * settings that differ from Hadoop's defaults (from {@code spark.hadoop.fs.s3a.*}, a core-site.xml, or the
     * AWS_* variables Spark copies into {@code fs.s3a.access.key} / {@code secret.key}), one per line, secrets
     * redacted; empty when no uri is on s3a.
     */
    public static String s3aSettings(SparkSession spark, Collection<String> uris) {
        if (uris.stream().noneMatch(u -> u != null && u.startsWith("s3a://"))) {
            return "";
        }
        Configuration defaults = new Configuration(false);
        defaults.addResource("core-default.xml");
        Map<String, String> s3a = new TreeMap<>();
        for (Map.Entry<String, String> e : spark.sparkContext().hadoopConfiguration()) {
            String key = e.getKey();
            if (key.startsWith(S3A_PREFIX) && !e.getValue().equals(defaults.getRaw(key))) {
                s3a.put(key, e.getValue());
            }
        }
        StringBuilder sb = new StringBuilder("S3A settings (fs.s3a.* other than Hadoop's defaults; from "
                + "spark.hadoop.fs.s3a.*, core-site.xml or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY):\n");
        if (s3a.isEmpty()) {
            sb.append("  none: S3A's defaults (AWS endpoints, the default credential providers)\n");
        } else {
            for (String line : RunConfigLoader.describe(s3a, new LinkedHashMap<>()).split("\n")) {
                sb.append("  ").append(line).append('\n');
            }
        }
        return sb.toString();
    }
}
