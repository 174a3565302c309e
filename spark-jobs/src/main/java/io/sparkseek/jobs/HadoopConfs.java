package io.sparkseek.jobs;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import scala.Tuple2;

/**
 * The Hadoop configuration of a command that runs without a SparkContext (export, eval, generate): Hadoop's
 * defaults plus every {@code spark.hadoop.*} setting Spark would apply ({@code spark-submit --conf},
 * spark-defaults.conf, or {@code -Dspark.hadoop.…} system properties), so {@code s3a://} and {@code hdfs://} paths
 * behave exactly as in prep and train.
 */
public final class HadoopConfs {
    private static final String PREFIX = "spark.hadoop.";

    private HadoopConfs() {
    }

    public static Configuration fromSparkConf() {
        return fromSparkConf(new SparkConf());
    }

    public static Configuration fromSparkConf(SparkConf spark) {
        Configuration conf = new Configuration();
        for (Tuple2<String, String> kv : spark.getAll()) {
            if (kv._1().startsWith(PREFIX)) {
                conf.set(kv._1().substring(PREFIX.length()), kv._2(), "spark conf");
            }
        }
        return conf;
    }
}
