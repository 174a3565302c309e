package io.sparkseek.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The product on a real Spark standalone cluster ({@link LocalCluster}: a master and two workers, each its own JVM),
 * submitted through spark-submit: training gives the same bits as {@code local[*]}, also when an executor JVM is
 * killed mid-run (Spark re-runs its task) and when the driver is killed and the run is resumed; a corrupted shard
 * stops the job with an error naming it.
 */
class ClusterTest {
    /** local mode, H = 4 inner steps per stage: stages long enough to kill something inside one. */
    private static final List<String> RUN = List.of("--stages", "8", "--mode", "local",
            "--conf", "sparkseek.train.localSteps=4", "--conf", "sparkseek.train.batchSize=4",
            "--conf", "sparkseek.checkpoint.every=2", "--conf", "sparkseek.eval.every=4");

    @TempDir
    static Path tmp;
    static LocalCluster cluster;
    static Path data;
    static byte[] reference;

    @BeforeAll
    static void startClusterAndTrainTheReferenceLocally() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        Files.writeString(in.resolve("a.txt"), Cli.wordParagraphs(5, 120, 80, false));
        data = tmp.resolve("data");
        Cli.Result p = Cli.run("prep", "--input", in.toString(), "--output", data.toString(), "--text-split",
                "paragraph", "--vocab-size", "300", "--seq-len", "16", "--dedup", "exact", "--val-fraction", "0.1");
        assertThat(p.exit()).as(p.describe()).isZero();
        Path local = tmp.resolve("local");
        Cli.Result r = Cli.run(trainArgs(local).toArray(String[]::new));
        assertThat(r.exit()).as(r.describe()).isZero();
        reference = finalWeights(local);
        cluster = LocalCluster.start(tmp.resolve("cluster"), 2);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static List<String> trainArgs(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--model",
                Cli.repoRoot().resolve("conf/models/tiny.json").toString(), "--out", out.toString()));
        args.addAll(RUN);
        args.addAll(List.of(extra));
        return args;
    }

    /** The model.safetensors of the run's latest checkpoint. */
    private static byte[] finalWeights(Path run) throws Exception {
        String latest = Files.readString(run.resolve("checkpoints/latest")).trim();
        return Files.readAllBytes(run.resolve("checkpoints").resolve(latest).resolve("model.safetensors"));
    }

    private static void awaitLog(Path log, String text, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(text)) {
                return;
            }
            assertThat(p.isAlive()).as("the submission ended before printing '" + text + "':\n"
                    + Files.readString(log, StandardCharsets.UTF_8)).isTrue();
            Thread.sleep(50);
        }
        throw new AssertionError("'" + text + "' did not appear in " + log);
    }

    @Test
    void trainingOnTheClusterEqualsLocalBitForBit() throws Exception {
        Path run = tmp.resolve("cluster-run");
        long t0 = System.nanoTime();
        Cli.Result r = cluster.submit(tmp.resolve("cluster-run.log"), trainArgs(run).toArray(String[]::new));
        assertThat(r.exit()).as(r.describe()).isZero();
        System.out.printf("cluster: 8 stages in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertThat(r.out()).contains("stage 8/8").contains(cluster.master());
        assertThat(finalWeights(run)).isEqualTo(reference);
    }

    @Test
    void anExecutorKilledMidRunLeavesTheWeightsBitIdentical() throws Exception {
        Path run = tmp.resolve("executor-killed");
        Path log = tmp.resolve("executor-killed.log");
        Process p = cluster.submitAsync(log, trainArgs(run).toArray(String[]::new));
        awaitLog(log, "stage 3/8", p);   // stage 4 has just started: its tasks are running
        List<Long> executors = cluster.executorPids();
        assertThat(executors).as("executors of the running application").isNotEmpty();
        ProcessHandle.of(executors.get(0)).orElseThrow().destroyForcibly();
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).containsPattern("Lost (task|executor)|ExecutorLostFailure|Executor .* lost|Remove(d)? executor")
                .contains("stage 8/8");
        assertThat(finalWeights(run)).isEqualTo(reference);
    }

    @Test
    void aKilledDriverResumesToTheSameBits() throws Exception {
        Path run = tmp.resolve("driver-killed");
        Path log = tmp.resolve("driver-killed.log");
        Process p = cluster.submitAsync(log, trainArgs(run).toArray(String[]::new));
        awaitLog(log, "stage 5/8", p);   // checkpoints of stages 2 and 4 are committed; stage 6 is running
        p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        assertThat(p.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(Files.readString(log, StandardCharsets.UTF_8)).doesNotContain("stage 8/8");
        Cli.Result r = cluster.submit(tmp.resolve("driver-resumed.log"),
                trainArgs(run, "--resume").toArray(String[]::new));
        assertThat(r.exit()).as(r.describe()).isZero();
        assertThat(r.out()).contains("resumed from").contains("stage 8/8");
        assertThat(finalWeights(run)).isEqualTo(reference);
    }

    @Test
    void aCorruptedShardStopsTheJobWithAnErrorNamingIt() throws Exception {
        Path bad = tmp.resolve("bad-data");
        try (var files = Files.walk(data)) {
            for (Path f : files.toList()) {
                Path to = bad.resolve(data.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        Path shard;
        try (var s = Files.list(bad.resolve("train"))) {
            shard = s.filter(f -> f.toString().endsWith(".arrow")).findFirst().orElseThrow();
        }
        byte[] b = Files.readAllBytes(shard);
        b[b.length / 2] ^= 1;
        Files.write(shard, b);
        List<String> args = new ArrayList<>(List.of("train", "--data", bad.toString(), "--model",
                Cli.repoRoot().resolve("conf/models/tiny.json").toString(), "--out", tmp.resolve("bad-run").toString(),
                "--stages", "2", "--conf", "sparkseek.train.batchSize=4"));
        Cli.Result r = cluster.submit(tmp.resolve("bad.log"), args.toArray(String[]::new));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).contains("sparkseek train: a Spark task failed on every retry: CorruptShardException: shard "
                + "train/" + shard.getFileName()).contains("re-run `scripts/sparkseek prep`");
    }
}
