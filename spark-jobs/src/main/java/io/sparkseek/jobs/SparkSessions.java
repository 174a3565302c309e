package io.sparkseek.jobs;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The SparkSession of a job: under {@code spark-submit} the master and settings come from it; started directly
 * (scripts/sparkseek without SPARK_HOME) Spark runs embedded on {@code local[*]}.
 */
public final class SparkSessions {
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
}
