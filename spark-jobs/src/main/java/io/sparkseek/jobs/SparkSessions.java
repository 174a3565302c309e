package io.sparkseek.jobs;

import io.sparkseek.jobs.config.RunConfigLoader;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

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
    /** The Spark prefix of the S3A settings. */
    static final String S3A_PREFIX = "spark.hadoop.fs.s3a.";

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

    /**
     * For the start-up printout when any of {@code uris} is {@code s3a://}: the session's
     * {@code spark.hadoop.fs.s3a.*} settings, one per line, secrets redacted; empty when no uri is on s3a.
     */
    public static String s3aSettings(SparkSession spark, Collection<String> uris) {
        if (uris.stream().noneMatch(u -> u != null && u.startsWith("s3a://"))) {
            return "";
        }
        Map<String, String> s3a = new TreeMap<>();
        for (Tuple2<String, String> kv : spark.sparkContext().getConf().getAll()) {
            if (kv._1().startsWith(S3A_PREFIX)) {
                s3a.put(kv._1().substring("spark.hadoop.".length()), kv._2());
            }
        }
        StringBuilder sb = new StringBuilder("S3A settings (spark.hadoop.fs.s3a.*; credentials may also come from "
                + "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY):\n");
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
