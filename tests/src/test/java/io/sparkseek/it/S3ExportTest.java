package io.sparkseek.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code export} to {@code s3a://} on a real S3 API server ({@link S3Server}): the export lists and reads back and
 * evaluates to the checkpoint's loss; the server stopped in the middle of an export gives a clear error and no
 * {@code _SUCCESS}, and the same command after a restart commits; a wrong secret gives one clear line and no
 * secret anywhere in the output.
 */
class S3ExportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static java.nio.file.Path tmp;
    static S3Server s3;
    static java.nio.file.Path data;
    static java.nio.file.Path run;
    static double checkpointLoss;

    @BeforeAll
    static void trainAndStartTheServer() throws Exception {
        s3 = S3Server.start();
        data = Cli.prepWords(tmp, 9, 150, 60, true, 32).data();
        run = tmp.resolve("run");
        Cli.Result t = Cli.run("train", "--data", data.toString(), "--model",
                Cli.repoRoot().resolve("conf/models/tiny.json").toString(), "--out", run.toString(), "--stages", "10",
                "--conf", "sparkseek.train.batchSize=8", "--conf", "sparkseek.checkpoint.every=10");
        assertThat(t.exit()).as(t.describe()).isZero();
        checkpointLoss = evalLoss(run.toString());
    }

    @AfterAll
    static void stopServer() {
        if (s3 != null) {
            s3.close();
        }
    }

    private static double evalLoss(String checkpoint) throws Exception {
        Cli.Result r = s3.cli("eval", "--checkpoint", checkpoint, "--data", data.toString(), "--json");
        assertThat(r.exit()).as(r.describe()).isZero();
        return JSON.readTree(r.out()).get("loss").asDouble();
    }

    private static List<String> list(String uri) throws Exception {
        try (FileSystem fs = FileSystem.newInstance(new Path(uri).toUri(), s3.hadoopConf())) {
            return Arrays.stream(fs.listStatus(new Path(uri))).map(FileStatus::getPath).map(Path::getName).sorted()
                    .toList();
        }
    }

    private static boolean exists(String uri) throws Exception {
        try (FileSystem fs = FileSystem.newInstance(new Path(uri).toUri(), s3.hadoopConf())) {
            return fs.exists(new Path(uri));
        }
    }

    @Test
    void exportToS3ListsReadsBackAndEvaluatesToTheSameLoss() throws Exception {
        String to = s3.uri("exports/fp32");
        Cli.Result r = s3.cli("export", "--checkpoint", run.toString(), "--to", to, "--dtype", "fp32");
        assertThat(r.exit()).as(r.describe()).isZero();
        assertThat(list(to)).containsExactly("_SUCCESS", "config.json", "generation_config.json",
                "model.safetensors", "tokenizer.json", "tokenizer_config.json");
        assertThat(evalLoss(to)).isEqualTo(checkpointLoss);
        // generate reads the export from s3a as well
        Cli.Result g = s3.cli("generate", "--checkpoint", to, "--prompt", "the cat", "--max-new-tokens", "5",
                "--temperature", "0", "--json");
        assertThat(g.exit()).as(g.describe()).isZero();
        assertThat(JSON.readTree(g.out()).get("new_tokens").asInt()).isBetween(0, 5);
    }

    @Test
    void aServerStoppedMidExportFailsClearlyWithoutSuccessAndTheRetryCommits() throws Exception {
        String to = s3.uri("exports/interrupted");
        String[] args = {"export", "--checkpoint", run.toString(), "--to", to, "--dtype", "fp32",
            "--max-shard-size", "20KB", "--retries", "2", "--retry-backoff-ms", "100"};
        CompletableFuture<Cli.Result> export = CompletableFuture.supplyAsync(() -> s3.cli(args));
        java.nio.file.Path staged = s3.storageDir().resolve(s3.bucket()).resolve("exports/interrupted/_temporary");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!hasFiles(staged) && !export.isDone() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(export.isDone()).as("the export was still uploading when the server stopped").isFalse();
        s3.stop();
        Cli.Result failed = export.get(5, TimeUnit.MINUTES);
        assertThat(failed.exit()).as(failed.describe()).isEqualTo(2);
        assertThat(failed.err()).contains("sparkseek export: ").contains("failed after")
                .contains("is not committed (no _SUCCESS): run the same command again");
        assertThat(failed.err().lines().filter(l -> l.startsWith("sparkseek export:")).count()).isEqualTo(1);

        s3.restart();
        assertThat(exists(to + "/_SUCCESS")).isFalse();
        Cli.Result again = s3.cli(args);
        assertThat(again.exit()).as(again.describe()).isZero();
        assertThat(again.err()).contains("uncommitted earlier attempt");
        assertThat(list(to)).contains("_SUCCESS", "model.safetensors.index.json").doesNotContain("_temporary");
        assertThat(evalLoss(to)).isEqualTo(checkpointLoss);
    }

    private static boolean hasFiles(java.nio.file.Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<java.nio.file.Path> s = Files.walk(dir)) {
            return s.anyMatch(f -> Files.isRegularFile(f) && f.getFileName().toString().startsWith("model-"));
        }
    }

    @Test
    void aWrongSecretIsOneClearLineWithNoSecretInTheOutput() throws Exception {
        String wrong = "wrong-secret-" + Long.toHexString(System.nanoTime());
        Cli.Result r = s3.cli(Map.of("spark.hadoop.fs.s3a.secret.key", wrong), "export", "--checkpoint",
                run.toString(), "--to", s3.uri("exports/denied"), "--retries", "2", "--retry-backoff-ms", "10");
        assertThat(r.exit()).isEqualTo(2);
        String all = r.out() + r.err();
        assertThat(r.err()).contains("sparkseek export: ").contains("the store refused the")
                .contains("fs.s3a.access.key / fs.s3a.secret.key");
        assertThat(all).doesNotContain(wrong).doesNotContain(s3.secretKey());
        assertThat(exists(s3.uri("exports/denied/_SUCCESS"))).isFalse();
    }
}
