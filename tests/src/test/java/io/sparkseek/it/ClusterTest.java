package io.sparkseek.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.apache.hadoop.fs.FileSystem;

import java.io.InputStream;
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
 * stops the job with an error naming it. With a real S3 API server ({@link S3Server}): prep from {@code s3a://},
 * training on the cluster and export to {@code s3a://} give the local bits; the server going down while a run
 * checkpoints stops it with one clear line, and the run resumes from its last committed checkpoint to the same bits.
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
    static S3Server s3;
    static Path corpus;

    @BeforeAll
    static void startClusterAndTrainTheReferenceLocally() throws Exception {
        Cli.Words words = Cli.prepWords(tmp, 5, 120, 80, false, 16);
        corpus = words.corpus();
        data = words.data();
        Path local = tmp.resolve("local");
        Cli.Result r = Cli.run(trainArgs(local).toArray(String[]::new));
        assertThat(r.exit()).as(r.describe()).isZero();
        reference = finalWeights(local);
        cluster = LocalCluster.start(tmp.resolve("cluster"), 2);
        s3 = S3Server.start();
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (s3 != null) {
            s3.close();
        }
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

    /** The model.safetensors of the latest checkpoint of a run on s3a, read through Hadoop S3A. */
    private static byte[] finalWeights(String s3Run) throws Exception {
        org.apache.hadoop.fs.Path run = new org.apache.hadoop.fs.Path(s3Run);
        try (FileSystem fs = FileSystem.newInstance(run.toUri(), s3.hadoopConf())) {
            String latest;
            try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(run, "checkpoints/latest"))) {
                latest = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            }
            try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(run, "checkpoints/" + latest
                    + "/model.safetensors"))) {
                return in.readAllBytes();
            }
        }
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
    void prepFromS3TrainAndExportToS3OnTheClusterGiveTheLocalBits() throws Exception {
        try (FileSystem fs = FileSystem.newInstance(new org.apache.hadoop.fs.Path(s3.uri("")).toUri(),
                s3.hadoopConf())) {
            fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(corpus.toUri()),
                    new org.apache.hadoop.fs.Path(s3.uri("corpus/a.txt")));
        }
        String s3Data = s3.uri("data");
        Cli.Result prep = cluster.submit(tmp.resolve("s3-prep.log"), s3.sparkConfArgs(), "prep", "--input",
                s3.uri("corpus/*.txt"), "--output", s3Data, "--text-split", "paragraph", "--vocab-size", "300",
                "--seq-len", "16", "--dedup", "exact", "--val-fraction", "0.1");
        assertThat(prep.exit()).as(prep.describe()).isZero();
        assertThat(prep.out()).contains(cluster.master()).doesNotContain(s3.secretKey());

        String s3Run = s3.uri("run");
        List<String> args = new ArrayList<>(List.of("train", "--data", s3Data, "--model",
                Cli.repoRoot().resolve("conf/models/tiny.json").toString(), "--out", s3Run));
        args.addAll(RUN);
        Cli.Result train = cluster.submit(tmp.resolve("s3-train.log"), s3.sparkConfArgs(),
                args.toArray(String[]::new));
        assertThat(train.exit()).as(train.describe()).isZero();
        assertThat(train.out()).contains("stage 8/8").doesNotContain(s3.secretKey());
        assertThat(finalWeights(s3Run)).isEqualTo(reference);

        Cli.Result export = s3.cli("export", "--checkpoint", s3Run, "--to", s3.uri("export"), "--dtype", "fp32");
        assertThat(export.exit()).as(export.describe()).isZero();
        Cli.Result fromS3 = s3.cli("eval", "--checkpoint", s3.uri("export"), "--data", data.toString(), "--json");
        Cli.Result local = Cli.run("eval", "--checkpoint", tmp.resolve("local").toString(), "--data",
                data.toString(), "--json");
        assertThat(fromS3.exit()).as(fromS3.describe()).isZero();
        assertThat(fromS3.out()).isEqualTo(local.out());
    }

    @Test
    void theS3ServerDownWhileCheckpointingStopsTrainingClearlyAndTheLastCheckpointResumes() throws Exception {
        String s3Run = s3.uri("run-down");
        Path log = tmp.resolve("s3-down.log");
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--model",
                Cli.repoRoot().resolve("conf/models/tiny.json").toString(), "--out", s3Run));
        args.addAll(RUN);
        Process p = cluster.submitAsync(log, s3.sparkConfArgs(), args.toArray(String[]::new));
        awaitLog(log, "stage 3/8", p);   // the stage-2 checkpoint is committed
        s3.stop();
        try {
            assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(out).isEqualTo(2);
            assertThat(out).doesNotContain("stage 8/8");
            List<String> errors = out.lines().filter(l -> l.startsWith("sparkseek train: ")).toList();
            assertThat(errors).as(out).hasSize(1);
            assertThat(errors.get(0)).contains("checkpoint after stage 4 to " + s3Run + "/checkpoints failed: ")
                    .contains("the checkpoint of stage 2 is intact: fix the store, then run again with --resume");
            System.out.println("cluster, S3 down while checkpointing: " + errors.get(0));
        } finally {
            s3.restart();
        }
        Cli.Result resumed = cluster.submit(tmp.resolve("s3-resumed.log"), s3.sparkConfArgs(),
                argsWith(args, "--resume"));
        assertThat(resumed.exit()).as(resumed.describe()).isZero();
        assertThat(resumed.out()).contains("resumed from").contains("stage 8/8");
        assertThat(finalWeights(s3Run)).isEqualTo(reference);
    }

    private static String[] argsWith(List<String> args, String... more) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
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
