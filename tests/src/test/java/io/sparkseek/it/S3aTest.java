package io.sparkseek.it;

import io.sparkseek.data.shard.DataDir;
import io.sparkseek.data.shard.Manifest;
import io.sparkseek.data.shard.ShardInfo;
import io.sparkseek.data.shard.SourceInfo;
import io.sparkseek.jobs.config.Redaction;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code s3a://} against a real S3 API server on 127.0.0.1 ({@link S3Server}, S3Proxy through scripts/s3-server):
 * the Hadoop file system operations SparkSeek relies on; {@code prep} reading from and writing to s3a giving the
 * bytes it gives on local disk; {@code train} checkpointing to s3a and resuming bit-identically; and a wrong secret
 * failing with one clear line that never shows a secret.
 *
 * <p>In-process runs get the S3A settings the way an embedded run does: as {@code spark.hadoop.fs.s3a.*} system
 * properties, which SparkConf reads (scripts/sparkseek passes them with {@code SPARKSEEK_JAVA_OPTS}).
 */
class S3aTest {

    @TempDir
    static java.nio.file.Path tmp;
    static S3Server s3;
    /** The corpus, local copies of what is uploaded to s3a://bucket/corpus/. */
    static java.nio.file.Path corpus;
    /** {@code prep} of the local corpus into a local data dir: the reference. */
    static java.nio.file.Path localData;

    private static final String[] PREP = {"--vocab-size", "300", "--seq-len", "16", "--dedup", "exact",
        "--val-fraction", "0.1"};

    @BeforeAll
    static void startServerAndPrepare() throws Exception {
        s3 = S3Server.start();
        corpus = Files.createDirectories(tmp.resolve("corpus"));
        java.nio.file.Path brown = Cli.repoRoot().resolve("data/corpus/brown/brown.jsonl");
        assertThat(brown).as("the Brown corpus: run scripts/fetch-corpus first (scripts/test does)").exists();
        List<String> lines = Files.readAllLines(brown).subList(0, 12); // 12 documents, about 130 KB
        Files.write(corpus.resolve("part-0.jsonl"), lines.subList(0, 6));
        Files.write(corpus.resolve("part-1.jsonl"), lines.subList(6, 12));
        try (FileSystem fs = FileSystem.newInstance(new Path(s3.uri("")).toUri(), s3.hadoopConf())) {
            for (String name : List.of("part-0.jsonl", "part-1.jsonl")) {
                fs.copyFromLocalFile(new Path(corpus.resolve(name).toUri()), new Path(s3.uri("corpus/" + name)));
            }
        }
        localData = tmp.resolve("local-data");
        Cli.Result r = Cli.run(prepArgs(corpus.resolve("*.jsonl").toString(), localData.toString()));
        assertThat(r.exit()).as(r.describe()).isZero();
    }

    @AfterAll
    static void stopServer() {
        if (s3 != null) {
            s3.close();
        }
    }

    private static String[] prepArgs(String input, String output) {
        List<String> args = new ArrayList<>(List.of("prep", "--input", input, "--output", output));
        args.addAll(List.of(PREP));
        return args.toArray(String[]::new);
    }

    @Test
    void hadoopFileSystemCreatesReadsListsRenamesAndDeletesOnS3a() throws Exception {
        Configuration conf = s3.hadoopConf();
        Path base = new Path(s3.uri("fs-test"));
        try (FileSystem fs = base.getFileSystem(conf)) {
            assertThat(fs.getScheme()).isEqualTo("s3a");
            byte[] big = new byte[3 << 20];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) (i * 31 + (i >> 9));
            }
            try (FSDataOutputStream out = fs.create(new Path(base, "dir/a.bin"), false)) {
                out.write(big);
            }
            write(fs, new Path(base, "dir/sub/b.txt"), "bee");
            assertThat(read(fs, new Path(base, "dir/a.bin"))).isEqualTo(big);
            try (FSDataInputStream in = fs.open(new Path(base, "dir/a.bin"))) {
                in.seek(1_000_000);
                assertThat(in.read()).isEqualTo(big[1_000_000] & 0xff);
            }
            assertThat(names(fs.listStatus(new Path(base, "dir")))).containsExactly("a.bin", "sub");
            assertThat(fs.getFileStatus(new Path(base, "dir/a.bin")).getLen()).isEqualTo(big.length);
            assertThat(fs.getFileStatus(new Path(base, "dir")).isDirectory()).isTrue();

            assertThat(fs.rename(new Path(base, "dir/sub/b.txt"), new Path(base, "dir/sub/c.txt"))).isTrue();
            assertThat(fs.rename(new Path(base, "dir"), new Path(base, "moved"))).isTrue(); // a directory: copies
            assertThat(fs.exists(new Path(base, "dir"))).isFalse();
            assertThat(new String(read(fs, new Path(base, "moved/sub/c.txt")), StandardCharsets.UTF_8))
                    .isEqualTo("bee");
            assertThat(read(fs, new Path(base, "moved/a.bin"))).isEqualTo(big);

            assertThat(fs.delete(new Path(base, "moved/a.bin"), false)).isTrue();
            assertThat(fs.delete(new Path(base, "moved"), true)).isTrue();
            assertThat(fs.exists(new Path(base, "moved/sub/c.txt"))).isFalse();
            assertThat(s3.storageDir().resolve(s3.bucket()).resolve("fs-test/moved")).doesNotExist();

            // stopped: an operation fails within seconds; restarted: same port, same objects
            write(fs, new Path(base, "kept.txt"), "kept");
            s3.stop();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> read(fs, new Path(base, "kept.txt"))).isInstanceOf(IOException.class);
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(20);
            int port = s3.port();
            s3.restart();
            assertThat(s3.port()).isEqualTo(port);
        }
        try (FileSystem fs = base.getFileSystem(s3.hadoopConf())) {
            assertThat(new String(read(fs, new Path(base, "kept.txt")), StandardCharsets.UTF_8)).isEqualTo("kept");
        }
    }

    @Test
    void prepReadsS3aInputsAndWritesS3aDataDirsWithTheBytesOfALocalRun() throws Exception {
        Manifest local = manifest(localData);
        java.nio.file.Path fromS3 = tmp.resolve("from-s3a");
        Cli.Result r = s3.cli(prepArgs(s3.uri("corpus/*.jsonl"), fromS3.toString()));
        assertThat(r.exit()).as(r.describe()).isZero();
        assertThat(r.out()).contains("prep: S3A settings").contains("fs.s3a.endpoint").contains(s3.endpoint())
                .contains("fs.s3a.secret.key").contains(Redaction.REDACTED).doesNotContain(s3.secretKey());
        Manifest remote = manifest(fromS3);
        assertSameData(remote, local);
        assertThat(remote.sources().stream().map(SourceInfo::uri))
                .containsExactly(s3.uri("corpus/part-0.jsonl"), s3.uri("corpus/part-1.jsonl"));
        for (ShardInfo shard : local.allFiles()) {
            assertThat(Files.readAllBytes(fromS3.resolve(shard.path()))).as(shard.path())
                    .isEqualTo(Files.readAllBytes(localData.resolve(shard.path())));
        }

        // --output on s3a: shards, tokenizer and manifest written through S3A, then checked by their sha256
        String outUri = s3.uri("prepared/brown");
        Cli.Result w = s3.cli(prepArgs(s3.uri("corpus/*.jsonl"), outUri));
        assertThat(w.exit()).as(w.describe()).isZero();
        assertThat(w.out()).contains("manifest committed: " + outUri + "/manifest.json");
        try (FileSystem fs = new Path(outUri).getFileSystem(s3.hadoopConf())) {
            Manifest onS3 = DataDir.readManifest(fs, new Path(outUri));
            assertSameData(onS3, local);
            DataDir.verify(fs, new Path(outUri)); // every shard's bytes match the sha256 of the local run
            assertThat(fs.exists(new Path(outUri, "_tmp"))).isFalse();
            assertThat(fs.exists(new Path(outUri, "_prep.lock"))).isFalse();
        }
        Cli.Result again = s3.cli(prepArgs(s3.uri("corpus/*.jsonl"), outUri));
        assertThat(again.exit()).as(again.describe()).isZero();
        assertThat(again.out()).contains("prep: unchanged");
    }

    /** Same shards, tokenizer, dedup index, settings and counts; the sources differ only in URI and time. */
    private static void assertSameData(Manifest actual, Manifest expected) {
        assertThat(actual.splits()).isEqualTo(expected.splits());
        assertThat(actual.dedupIndex()).isEqualTo(expected.dedupIndex());
        assertThat(actual.tokenizerSha256()).isEqualTo(expected.tokenizerSha256());
        assertThat(actual.settings()).isEqualTo(expected.settings());
        assertThat(actual.runs()).isEqualTo(expected.runs());
        assertThat(actual.sources().stream().map(x -> x.size() + "/" + x.docs()))
                .isEqualTo(expected.sources().stream().map(x -> x.size() + "/" + x.docs()).toList());
        assertThat(actual.totalSequences(Manifest.TRAIN)).isPositive();
    }

    private static Manifest manifest(java.nio.file.Path dir) throws IOException {
        return Manifest.fromJson(Files.readAllBytes(dir.resolve(DataDir.MANIFEST)), dir.toString());
    }

    private static String[] trainArgs(String data, String out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--data", data, "--model",
                Cli.repoRoot().resolve("conf/models/tiny.json").toString(), "--out", out, "--stages", "4",
                "--conf", "sparkseek.train.batchSize=4", "--conf", "sparkseek.eval.every=2",
                "--conf", "sparkseek.eval.batches=2", "--conf", "sparkseek.checkpoint.every=1"));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void trainReadsS3aDataCheckpointsToS3aAndResumesFromThereBitIdentically() throws Exception {
        java.nio.file.Path straight = tmp.resolve("run-straight");
        Cli.Result a = Cli.run(trainArgs(localData.toString(), straight.toString()));
        assertThat(a.exit()).as(a.describe()).isZero();
        assertThat(a.out()).doesNotContain("S3A settings");

        // the split run reads the same data dir from s3a (its tasks open the shards through S3A)
        String data = s3.uri("train-data");
        try (FileSystem fs = new Path(data).getFileSystem(s3.hadoopConf())) {
            fs.copyFromLocalFile(false, true, new Path(localData.toUri()), new Path(data));
            DataDir.verify(fs, new Path(data));
        }
        String run = s3.uri("runs/split");
        Cli.Result b1 = s3.cli(trainArgs(data, run, "--until-stage", "2"));
        assertThat(b1.exit()).as(b1.describe()).isZero();
        assertThat(b1.out()).contains("train: S3A settings").contains("stage 2/4").doesNotContain("stage 3/4")
                .doesNotContain(s3.secretKey());
        Cli.Result b2 = s3.cli(trainArgs(data, run, "--resume"));
        assertThat(b2.exit()).as(b2.describe()).isZero();
        assertThat(b2.out()).contains("resumed from " + run + "/checkpoints/step-0000002 at stage 2")
                .contains("stage 4/4").doesNotContain(s3.secretKey());

        Path checkpoints = new Path(run, "checkpoints");
        try (FileSystem fs = checkpoints.getFileSystem(s3.hadoopConf())) {
            assertThat(new String(read(fs, new Path(checkpoints, "latest")), StandardCharsets.UTF_8).strip())
                    .isEqualTo("step-0000004");
            List<String> committed = new ArrayList<>();
            for (FileStatus st : fs.listStatus(checkpoints)) {
                if (st.isDirectory() && fs.exists(new Path(st.getPath(), "_COMMITTED"))) {
                    committed.add(st.getPath().getName());
                }
            }
            // every stage checkpointed, the newest sparkseek.checkpoint.keep = 3 kept
            assertThat(committed).containsExactlyInAnyOrder("step-0000002", "step-0000003", "step-0000004");
            Path last = new Path(checkpoints, "step-0000004");
            java.nio.file.Path localLast = straight.resolve("checkpoints/step-0000004");
            // FP32 master weights with every layer's router bias (e_score_correction_bias), and the AdamW state
            byte[] model = read(fs, new Path(last, "model.safetensors"));
            assertThat(new String(model, 0, 4096, StandardCharsets.ISO_8859_1)).contains("e_score_correction_bias");
            assertThat(model).isEqualTo(Files.readAllBytes(localLast.resolve("model.safetensors")));
            assertThat(read(fs, new Path(last, "optimizer.safetensors")))
                    .isEqualTo(Files.readAllBytes(localLast.resolve("optimizer.safetensors")));
            String state = new String(read(fs, new Path(last, "trainer_state.json")), StandardCharsets.UTF_8);
            assertThat(state).contains("\"stage\"").doesNotContain(s3.secretKey());
            List<String> metrics = new String(read(fs, new Path(run, "metrics.jsonl")), StandardCharsets.UTF_8)
                    .lines().toList();
            List<String> straightMetrics = Files.readAllLines(straight.resolve("metrics.jsonl"));
            assertThat(metrics).hasSize(4);
            for (int i = 0; i < 4; i++) {
                assertThat(lossOf(metrics.get(i))).isEqualTo(lossOf(straightMetrics.get(i)));
            }
        }
    }

    @Test
    void wrongSecretIsOneClearLineAndNoSecretIsPrinted() throws Exception {
        String wrong = "wrong-" + s3.secretKey().substring(s3.secretKey().length() - 20);
        List<String> secrets = List.of(s3.secretKey(), wrong);

        // in-process train with the settings as spark.hadoop.* properties and a wrong secret among them
        Map<String, String> props = new LinkedHashMap<>(s3.sparkConf());
        props.put("spark.hadoop.fs.s3a.secret.key", wrong);
        String run = s3.uri("runs/refused");
        props.forEach(System::setProperty);
        Cli.Result t;
        try {
            t = Cli.run(trainArgs(localData.toString(), run));
        } finally {
            props.keySet().forEach(System::clearProperty);
        }
        assertThat(t.exit()).as(t.describe()).isEqualTo(2);
        assertThat(t.err().strip().lines()).as(t.describe()).hasSize(1);
        // S3A first reads checkpoints/latest with a HEAD request, whose 403 carries no S3 error code
        assertThat(t.err()).startsWith("sparkseek train: " + run + "/checkpoints/latest: the store refused the "
                + "request (HTTP 403, no error code given): the credentials are wrong or lack permission");
        assertNoSecret(t.out() + t.err(), secrets);

        // scripts/sparkseek prep, the documented embedded way: S3A settings in SPARKSEEK_JAVA_OPTS, credentials in
        // the environment (Spark copies AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY into fs.s3a.access/secret.key)
        StringBuilder javaOpts = new StringBuilder();
        s3.sparkConf().forEach((k, v) -> {
            if (!Redaction.isSecret(k)) {
                javaOpts.append(" -D").append(k).append('=').append(v);
            }
        });
        java.nio.file.Path out = tmp.resolve("refused-data");
        java.nio.file.Path stdout = tmp.resolve("refused-prep.out");
        java.nio.file.Path stderr = tmp.resolve("refused-prep.err");
        List<String> cmd = new ArrayList<>(List.of(Cli.repoRoot().resolve("scripts/sparkseek").toString()));
        cmd.addAll(List.of(prepArgs(s3.uri("corpus/*.jsonl"), out.toString())));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(Cli.repoRoot().toFile())
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        pb.environment().putAll(Map.of("SPARKSEEK_NO_BUILD", "1", "SPARKSEEK_JAVA_OPTS", javaOpts.toString().strip(),
                "AWS_ACCESS_KEY_ID", s3.accessKey(), "AWS_SECRET_ACCESS_KEY", wrong));
        Process p = pb.start();
        assertThat(p.waitFor(3, TimeUnit.MINUTES)).as("prep finished").isTrue();
        String err = Files.readString(stderr);
        String all = Files.readString(stdout) + err;
        assertThat(p.exitValue()).as(all).isEqualTo(2);
        List<String> errors = err.lines().filter(l -> l.startsWith("sparkseek prep: ")).toList();
        assertThat(errors).as(all).containsExactly("sparkseek prep: cannot list input " + s3.uri("corpus/*.jsonl")
                + ": " + s3.uri("corpus") + ": the store refused the credentials (HTTP 403 SignatureDoesNotMatch: the "
                + "secret key does not match the access key); " + "S3A takes them from fs.s3a.access.key / "
                + "fs.s3a.secret.key or the environment's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY "
                + "(docs/data-prep.md, \"S3 (s3a://)\")");
        assertThat(all).as(all).doesNotContain("\tat ").contains(Redaction.REDACTED);
        assertThat(out).doesNotExist();

        // nothing written during this test shows a secret: outputs above, the server's log, every file in tmp
        assertNoSecret(all, secrets);
        assertNoSecret(Files.readString(s3.logFile()), secrets);
        try (Stream<java.nio.file.Path> files = Files.walk(tmp)) {
            for (java.nio.file.Path f : files.filter(Files::isRegularFile).toList()) {
                assertNoSecret(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1), secrets);
            }
        }
    }

    private static String lossOf(String jsonLine) {
        int i = jsonLine.indexOf("\"loss\":");
        return jsonLine.substring(i, jsonLine.indexOf(',', i));
    }

    private static void assertNoSecret(String text, List<String> secrets) {
        for (String secret : secrets) {
            assertThat(text.contains(secret)).as("a secret key appears in:\n" + text).isFalse();
        }
    }

    private static void write(FileSystem fs, Path p, String text) throws IOException {
        try (OutputStream out = fs.create(p, true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static byte[] read(FileSystem fs, Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }

    private static List<String> names(FileStatus[] statuses) {
        return Arrays.stream(statuses).map(s -> s.getPath().getName()).sorted().toList();
    }
}
