package io.sparkseek.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Spark standalone cluster for the integration tests: {@code scripts/local-cluster start} (a master and
 * {@code workers} workers, each its own JVM on 127.0.0.1, from the SPARK_HOME {@code scripts/spark-home} assembles)
 * on a free port with its state in a test directory. Jobs are submitted as a user would: {@code scripts/sparkseek}
 * with {@code SPARK_HOME} set and {@code --master spark://…}, so they go through Spark's own SparkSubmit.
 */
final class LocalCluster implements AutoCloseable {
    /** Executor memory per executor (each worker offers 2g; two executors fit the 2-core CI machine). */
    static final String EXECUTOR_MEMORY = "1g";

    private final Path dir;
    private final Path sparkHome;
    private final String master;

    private LocalCluster(Path dir, Path sparkHome, String master) {
        this.dir = dir;
        this.sparkHome = sparkHome;
        this.master = master;
    }

    /** Starts a cluster of {@code workers} one-core workers; state and logs go to {@code dir}. */
    static LocalCluster start(Path dir, int workers) throws Exception {
        Path home = dir.resolve("spark-home");
        Files.createDirectories(dir);
        exec(List.of("scripts/spark-home", home.toString()), Map.of(), dir.resolve("spark-home.log"), 300);
        String out = exec(List.of("scripts/local-cluster", "start", "--port", "0", "--workers",
                        Integer.toString(workers), "--cores", "1", "--memory", "2g", "--dir", dir.toString()),
                Map.of("SPARK_HOME", home.toString()), dir.resolve("start.log"), 300);
        String url = out.lines().filter(l -> l.startsWith("spark://")).reduce((a, b) -> b)
                .orElseThrow(() -> new IllegalStateException("local-cluster start printed no master URL:\n" + out));
        return new LocalCluster(dir, home, url);
    }

    String master() {
        return master;
    }

    /**
     * The environment under which scripts/sparkseek submits to this cluster; {@code submitOpts} are further
     * spark-submit options (no spaces inside one), e.g. {@code --conf spark.hadoop.fs.s3a.endpoint=...}.
     */
    Map<String, String> submitEnv(List<String> submitOpts) {
        return Map.of("SPARK_HOME", sparkHome.toString(), "SPARKSEEK_NO_BUILD", "1", "SPARK_LOCAL_IP", "127.0.0.1",
                "SPARKSEEK_SUBMIT_OPTS", "--master " + master + " --conf spark.driver.host=127.0.0.1"
                        + " --conf spark.executor.memory=" + EXECUTOR_MEMORY + " --conf spark.executor.cores=1 "
                        + String.join(" ", submitOpts));
    }

    /** Starts {@code scripts/sparkseek args} against the cluster; its stdout and stderr go to {@code log}. */
    Process submitAsync(Path log, String... args) throws IOException {
        return submitAsync(log, List.of(), args);
    }

    Process submitAsync(Path log, List<String> submitOpts, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add("scripts/sparkseek");
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(Cli.repoRoot().toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(submitEnv(submitOpts));
        return pb.start();
    }

    /** Runs a submission to the end (at most 10 minutes); exit code and the whole log (as out and err). */
    Cli.Result submit(Path log, String... args) throws Exception {
        return submit(log, List.of(), args);
    }

    Cli.Result submit(Path log, List<String> submitOpts, String... args) throws Exception {
        Process p = submitAsync(log, submitOpts, args);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("submission did not finish in 10 minutes; log " + log);
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        return new Cli.Result(p.exitValue(), out, out, args);
    }

    /** Process ids of the executor JVMs the workers run now. */
    List<Long> executorPids() throws IOException {
        List<Long> out = new ArrayList<>();
        try (var pids = Files.newDirectoryStream(dir, "worker-*.pid")) {
            for (Path f : pids) {
                long worker = Long.parseLong(Files.readString(f).trim());
                ProcessHandle.of(worker).ifPresent(w -> w.descendants()
                        .filter(d -> d.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend"))
                        .forEach(d -> out.add(d.pid())));
            }
        }
        return out;
    }

    @Override
    public void close() throws Exception {
        exec(List.of("scripts/local-cluster", "stop", "--dir", dir.toString()), Map.of(), dir.resolve("stop.log"), 120);
    }

    private static String exec(List<String> cmd, Map<String, String> env, Path log, int timeoutS) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(Cli.repoRoot().toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(cmd + " did not finish in " + timeoutS + " s; log " + log);
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IllegalStateException(cmd + " exited " + p.exitValue() + ":\n" + out);
        }
        return out;
    }
}
