package io.sparkseek.jobs.cli;

import io.sparkseek.jobs.SparkSessions;
import io.sparkseek.jobs.config.RunConfigLoader;
import io.sparkseek.jobs.run.TrainJob;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code train --data DIR --model X.json --out RUN [--conf sparkseek.k=v ...] [--resume]}: the Spark training job
 * (ARCHITECTURE §2, §4). Settings resolve as CLI flag > {@code --conf} / Spark conf ({@code spark.sparkseek.*}) >
 * {@code --properties-file} > {@code conf/sparkseek-defaults.conf}, and are printed at start.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train on a prepared data dir with Spark: stages of one task per replica, driver-side "
                + "aggregation, routing-bias retuning, checkpoints and exact resume.",
                "Runs on the Spark of spark-submit, or an embedded local[*] Spark."})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "DIR", description = "data dir from prep (local, hdfs://, s3a://)")
    String data;

    @Option(names = "--model", required = true, paramLabel = "FILE", description = "HF DeepseekV3 config.json, e.g. "
            + "conf/models/small.json")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "RUN", description = "run dir: checkpoints/, metrics.jsonl")
    String out;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "a sparkseek.* setting (repeatable)")
    List<String> conf = List.of();

    @Option(names = "--properties-file", paramLabel = "FILE", description = "a properties file of sparkseek.* settings")
    Path propertiesFile;

    @Option(names = "--resume", description = "continue the run in --out from its latest checkpoint")
    boolean resume;

    @Option(names = "--until-stage", paramLabel = "K", defaultValue = "0",
            description = "stop after stage K in this run (with a checkpoint), to --resume later; 0: run to the end")
    long untilStage;

    @Option(names = "--stages", description = "sparkseek.train.stages")
    Long stages;

    @Option(names = "--mode", description = "sparkseek.train.mode: sync or local")
    String mode;

    @Option(names = "--replicas", description = "sparkseek.train.replicas")
    Integer replicas;

    @Option(names = "--precision", description = "sparkseek.train.precision: fp32 or fp8")
    String precision;

    @Option(names = "--seed", description = "sparkseek.train.seed")
    Long seed;

    @Override
    public Integer call() throws Exception {
        Map<String, String> flags = new LinkedHashMap<>();
        put(flags, "sparkseek.train.stages", stages);
        put(flags, "sparkseek.train.mode", mode);
        put(flags, "sparkseek.train.replicas", replicas);
        put(flags, "sparkseek.train.precision", precision);
        put(flags, "sparkseek.train.seed", seed);
        Map<String, String> pairs = new LinkedHashMap<>();
        for (String kv : conf) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--conf takes KEY=VALUE, got '" + kv + "'");
            }
            pairs.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
        SparkSession spark = SparkSessions.getOrCreate("sparkseek train");
        try {
            Map<String, String> fromSpark = RunConfigLoader.sparkConfPairs(spark.sparkContext().getConf().getAll());
            Map<String, String> confLayer = new LinkedHashMap<>(fromSpark);
            confLayer.putAll(pairs);
            RunConfigLoader.Resolution res = RunConfigLoader.resolveWithOrigins(flags, confLayer,
                    Optional.ofNullable(propertiesFile), RunConfigLoader.loadDefaults());
            System.out.print("train: settings\n" + res.describe());
            String s3a = SparkSessions.s3aSettings(spark, List.of(data, out));
            if (!s3a.isEmpty()) {
                System.out.print("train: " + s3a);
            }
            TrainJob.Result r = TrainJob.run(spark, new TrainJob.Options(data, model, out, res.config(), resume,
                    untilStage),
                    System.out::println);
            System.out.printf("train: done, %d stages run (from stage %d); checkpoints in %s/checkpoints%n",
                    r.stagesRun(), r.firstStage() + 1, out);
            return 0;
        } finally {
            spark.stop();
        }
    }

    private static void put(Map<String, String> flags, String key, Object value) {
        if (value != null) {
            flags.put(key, value.toString());
        }
    }
}
