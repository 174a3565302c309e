package io.sparkseek.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.io.HfModelDir;
import io.sparkseek.model.io.Safetensors;
import io.sparkseek.model.io.SafetensorsFile;
import io.sparkseek.model.io.TrainerCheckpoint;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * End-to-end CLI behaviour through {@code Main.run} (ARCHITECTURE §4): init → eval → grad, train-local with
 * resume, and user errors: exit code ≠ 0, one line on stderr naming the problem, no output file left behind.
 */
class CliTest {
    static final int SEQ_LEN = 16;
    static final int ROWS = 4;
    static final int VOCAB = 64;
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static ModelConfig tinyConfig() {
        return ModelConfig.builder()
                .vocabSize(VOCAB).hiddenSize(32).intermediateSize(48).moeIntermediateSize(16)
                .numHiddenLayers(2).firstKDenseReplace(1)
                .numAttentionHeads(2).numKeyValueHeads(2)
                .qLoraRank(16).kvLoraRank(16).qkNopeHeadDim(8).qkRopeHeadDim(4).vHeadDim(8)
                .nRoutedExperts(8).nSharedExperts(1).numExpertsPerTok(2).nGroup(4).topkGroup(2)
                .routedScalingFactor(1.0).maxPositionEmbeddings(64)
                .build();
    }

    Path configFile() throws IOException {
        Path f = tmp.resolve("tiny.json");
        if (!Files.exists(f)) {
            tinyConfig().write(f);
        }
        return f;
    }

    Path initModel(String name, long seed) throws IOException {
        Path dir = tmp.resolve(name);
        Cli.Result r = Cli.run("init", "--model", configFile().toString(), "--out", dir.toString(),
                "--seed", Long.toString(seed));
        assertThat(r.exit()).as(r.describe()).isZero();
        assertThat(HfModelDir.isModelDir(dir)).isTrue();
        return dir;
    }

    Path tokens(String name, int[] values) throws IOException {
        Path f = tmp.resolve(name);
        Cli.writeInts(f, values);
        return f;
    }

    Path goodTokens() throws IOException {
        return tokens("tokens.bin", Cli.randomTokens(42, ROWS, SEQ_LEN, VOCAB));
    }

    static JsonNode evalJson(Path checkpoint, Path tokens, String... extra) throws IOException {
        List<String> a = new ArrayList<>(List.of("eval", "--checkpoint", checkpoint.toString(),
                "--tokens", tokens.toString(), "--seq-len", Integer.toString(SEQ_LEN), "--json"));
        a.addAll(List.of(extra));
        Cli.Result r = Cli.run(a.toArray(String[]::new));
        assertThat(r.exit()).as(r.describe()).isZero();
        return ReferenceCrossCheckTest.singleJsonObject(r.out(), "eval --json stdout");
    }

    static Cli.Result grad(Path checkpoint, Path tokens, Path out) {
        return Cli.run("grad", "--checkpoint", checkpoint.toString(), "--tokens", tokens.toString(),
                "--seq-len", Integer.toString(SEQ_LEN), "--out", out.toString());
    }

    /** Exit ≠ 0, nothing on stdout, exactly one non-empty line on stderr holding every {@code mustName}. */
    static void assertUserError(Cli.Result r, String... mustName) {
        assertThat(r.exit()).as(r.describe()).isNotZero();
        String err = r.err().strip();
        assertThat(err).as(r.describe()).isNotEmpty().doesNotContain("\n").doesNotContain("\tat ")
                .doesNotContain("Exception");
        for (String s : mustName) {
            assertThat(err).as(r.describe()).contains(s);
        }
        assertThat(r.out()).as("stdout on error: " + r.describe()).isEmpty();
    }

    // ------------------------------------------------------------------ happy path

    @Test
    void initEvalGrad() throws Exception {
        Path model = initModel("model", 5);
        Path toks = goodTokens();

        JsonNode j = evalJson(model, toks);
        double loss = j.get("loss").asDouble();
        assertThat(loss).as("random-init loss is about ln(vocab)").isCloseTo(Math.log(VOCAB), within(0.5));
        assertThat(j.get("tokens").asLong()).isEqualTo((long) ROWS * SEQ_LEN);
        assertThat(j.get("perplexity").asDouble()).isCloseTo(Math.exp(loss), within(1e-9 * Math.exp(loss)));
        JsonNode loads = j.get("expert_load");
        assertThat(ReferenceCrossCheckTest.fieldNames(loads)).containsExactly("model.layers.1.mlp");
        long[] l1 = ReferenceCrossCheckTest.longs(loads.get("model.layers.1.mlp"));
        assertThat(l1).hasSize(8);
        assertThat(LongStream.of(l1).sum()).as("every token picks K=2 experts").isEqualTo(2L * ROWS * SEQ_LEN);

        // Rows are independent: evaluating one row per pass gives the same mean loss and loads.
        JsonNode oneByOne = evalJson(model, toks, "--batch", "1", "--threads", "1");
        assertThat(oneByOne.get("loss").asDouble()).isCloseTo(loss, within(1e-6 * loss));
        assertThat(oneByOne.get("expert_load")).isEqualTo(loads);

        Cli.Result text = Cli.run("eval", "--checkpoint", model.toString(), "--tokens", toks.toString(),
                "--seq-len", Integer.toString(SEQ_LEN));
        assertThat(text.exit()).as(text.describe()).isZero();
        assertThat(text.out()).contains("loss").contains("perplexity");

        Path g = tmp.resolve("grads.safetensors");
        Cli.Result gr = grad(model, toks, g);
        assertThat(gr.exit()).as(gr.describe()).isZero();
        DeepSeekModel m = HfModelDir.load(model, 0f);
        try (SafetensorsFile f = Safetensors.open(g)) {
            assertThat(f.names()).containsExactlyInAnyOrderElementsOf(
                    m.params().stream().map(Param::name).collect(Collectors.toList()));
            assertThat(Double.parseDouble(f.metadata().get("loss"))).as("grad loss = eval loss")
                    .isCloseTo(loss, within(1e-5 * loss));
            double sumSq = 0;
            for (String name : f.names()) {
                for (float v : f.getFloats(name)) {
                    assertThat(Float.isFinite(v)).as("finite gradient in %s", name).isTrue();
                    sumSq += (double) v * v;
                }
            }
            assertThat(sumSq).isPositive();
        }

        // init is deterministic in its seed.
        Path again = initModel("again", 5);
        Path other = initModel("other", 6);
        byte[] w = Files.readAllBytes(model.resolve(HfModelDir.SINGLE));
        assertThat(Files.readAllBytes(again.resolve(HfModelDir.SINGLE))).isEqualTo(w);
        assertThat(Files.readAllBytes(other.resolve(HfModelDir.SINGLE))).isNotEqualTo(w);
    }

    /**
     * {@code --precision fp8}: eval and grad run the Linears in FP8 (on the Java backend). Documented tolerance
     * (docs/fp8.md): loss within 1e-3 relative, gradient relative L2 error ≤ 0.15 and cosine ≥ 0.99 against FP32.
     */
    @Test
    void fp8PrecisionStaysWithinToleranceOfFp32() throws Exception {
        Path model = initModel("model", 5);
        Path toks = goodTokens();
        double loss32 = evalJson(model, toks).get("loss").asDouble();
        double loss8 = evalJson(model, toks, "--precision", "fp8", "--backend", "java").get("loss").asDouble();
        assertThat(loss8).isNotEqualTo(loss32).isCloseTo(loss32, within(1e-3 * loss32));

        Path g32 = tmp.resolve("g32.safetensors");
        Path g8 = tmp.resolve("g8.safetensors");
        assertThat(grad(model, toks, g32).exit()).isZero();
        Cli.Result r = Cli.run("grad", "--checkpoint", model.toString(), "--tokens", toks.toString(),
                "--seq-len", Integer.toString(SEQ_LEN), "--out", g8.toString(), "--precision", "fp8",
                "--backend", "java");
        assertThat(r.exit()).as(r.describe()).isZero();
        double dot = 0;
        double n32 = 0;
        double n8 = 0;
        double diff = 0;
        try (SafetensorsFile a = Safetensors.open(g32); SafetensorsFile b = Safetensors.open(g8)) {
            assertThat(b.names()).containsExactlyInAnyOrderElementsOf(a.names());
            for (String name : a.names()) {
                float[] x = a.getFloats(name);
                float[] y = b.getFloats(name);
                for (int i = 0; i < x.length; i++) {
                    dot += (double) x[i] * y[i];
                    n32 += (double) x[i] * x[i];
                    n8 += (double) y[i] * y[i];
                    diff += ((double) x[i] - y[i]) * ((double) x[i] - y[i]);
                }
            }
        }
        assertThat(Math.sqrt(diff / n32)).as("gradient relative L2 error").isBetween(1e-4, 0.15);
        assertThat(dot / Math.sqrt(n32 * n8)).as("gradient cosine").isGreaterThan(0.99);

        assertUserError(Cli.run("eval", "--checkpoint", model.toString(), "--tokens", toks.toString(),
                "--seq-len", Integer.toString(SEQ_LEN), "--precision", "fp16"), "fp16", "fp32 or fp8");
        assertUserError(Cli.run("eval", "--checkpoint", model.toString(), "--tokens", toks.toString(),
                "--seq-len", Integer.toString(SEQ_LEN), "--precision", "fp8", "--backend", "cuda"),
                "cuda", "auto, opencl or java");
    }

    // ------------------------------------------------------------------ user errors

    @Test
    void tokenFileNotWholeRows() throws Exception {
        Path model = initModel("model", 1);
        int[] good = Cli.randomTokens(1, ROWS, SEQ_LEN, VOCAB);
        Path bad = tokens("ragged.bin", java.util.Arrays.copyOf(good, good.length + 1));
        Cli.Result r = Cli.run("eval", "--checkpoint", model.toString(), "--tokens", bad.toString(),
                "--seq-len", Integer.toString(SEQ_LEN), "--json");
        assertUserError(r, bad.toString(), "--seq-len");

        Path out = tmp.resolve("g.safetensors");
        assertUserError(grad(model, bad, out), bad.toString(), "--seq-len");
        assertThat(out).doesNotExist();

        // A whole file read with the wrong --seq-len (rows of 17 tokens, 68 ids, read as rows of 16).
        Path wrongT = goodTokens();
        Cli.Result w = Cli.run("eval", "--checkpoint", model.toString(), "--tokens", wrongT.toString(),
                "--seq-len", Integer.toString(SEQ_LEN - 1));
        assertUserError(w, wrongT.toString(), "--seq-len");

        Path empty = tokens("empty.bin", new int[0]);
        assertUserError(grad(model, empty, out), empty.toString());
        assertThat(out).doesNotExist();
    }

    @Test
    void tokenIdOutsideVocabulary() throws Exception {
        Path model = initModel("model", 1);
        int[] t = Cli.randomTokens(2, ROWS, SEQ_LEN, VOCAB);
        t[t.length - 1] = VOCAB;            // a target, not an input: must be caught as well
        Path big = tokens("big.bin", t);
        Path out = tmp.resolve("g.safetensors");
        assertUserError(Cli.run("eval", "--checkpoint", model.toString(), "--tokens", big.toString(),
                "--seq-len", Integer.toString(SEQ_LEN), "--json"), big.toString(), "token id " + VOCAB, "row 3",
                "vocab");
        assertUserError(grad(model, big, out), big.toString(), "token id " + VOCAB, "vocab");
        assertThat(out).doesNotExist();

        int[] n = Cli.randomTokens(3, ROWS, SEQ_LEN, VOCAB);
        n[5] = -1;
        Path neg = tokens("neg.bin", n);
        assertUserError(Cli.run("eval", "--checkpoint", model.toString(), "--tokens", neg.toString(),
                "--seq-len", Integer.toString(SEQ_LEN)), neg.toString(), "token id -1", "row 0", "vocab");
        assertUserError(grad(model, neg, out), neg.toString(), "token id -1", "vocab");
        assertThat(out).doesNotExist();
    }

    @Test
    void checkpointThatIsNotAModel() throws Exception {
        Path toks = goodTokens();
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Path out = tmp.resolve("g.safetensors");
        assertUserError(Cli.run("eval", "--checkpoint", empty.toString(), "--tokens", toks.toString(),
                "--seq-len", Integer.toString(SEQ_LEN), "--json"), empty.toString(), HfModelDir.CONFIG);
        assertUserError(grad(empty, toks, out), empty.toString(), HfModelDir.CONFIG);
        assertThat(out).doesNotExist();

        Path missing = tmp.resolve("no-such-dir");
        assertUserError(grad(missing, toks, out), missing.toString());
        assertThat(out).doesNotExist();
        assertThat(missing).doesNotExist();
    }

    @Test
    void initRefusesToOverwriteAModel() throws Exception {
        Path model = initModel("model", 1);
        byte[] weights = Files.readAllBytes(model.resolve(HfModelDir.SINGLE));
        byte[] config = Files.readAllBytes(model.resolve(HfModelDir.CONFIG));
        Cli.Result r = Cli.run("init", "--model", configFile().toString(), "--out", model.toString(), "--seed", "2");
        assertUserError(r, model.toString());
        assertThat(Files.readAllBytes(model.resolve(HfModelDir.SINGLE))).as("weights untouched").isEqualTo(weights);
        assertThat(Files.readAllBytes(model.resolve(HfModelDir.CONFIG))).as("config untouched").isEqualTo(config);
        try (Stream<Path> s = Files.list(model)) {
            assertThat(s.map(p -> p.getFileName().toString())).as("no temp files left")
                    .containsExactlyInAnyOrder(HfModelDir.SINGLE, HfModelDir.CONFIG);
        }
    }

    @Test
    void badConfigValueIsNamed() throws Exception {
        Path model = initModel("model", 1);
        Path toks = goodTokens();
        ObjectNode cfg = (ObjectNode) JSON.readTree(model.resolve(HfModelDir.CONFIG).toFile());
        cfg.put("n_group", 3);   // 8 experts are not divisible into 3 groups
        Files.writeString(model.resolve(HfModelDir.CONFIG), JSON.writeValueAsString(cfg));
        Path out = tmp.resolve("g.safetensors");
        assertUserError(Cli.run("eval", "--checkpoint", model.toString(), "--tokens", toks.toString(),
                "--seq-len", Integer.toString(SEQ_LEN), "--json"), "n_group");
        assertUserError(grad(model, toks, out), "n_group");
        assertThat(out).doesNotExist();

        Path badJson = tmp.resolve("bad.json");
        Files.writeString(badJson, JSON.writeValueAsString(cfg));
        Path newDir = tmp.resolve("new-model");
        assertUserError(Cli.run("init", "--model", badJson.toString(), "--out", newDir.toString()), "n_group");
        assertThat(newDir).doesNotExist();
        Path trainRun = tmp.resolve("run");
        assertUserError(Cli.run("train-local", "--model", badJson.toString(), "--out", trainRun.toString(),
                "--steps", "2"), "n_group");
        assertThat(trainRun).doesNotExist();
    }

    @Test
    void truncatedWeightsAreNamed() throws Exception {
        Path model = initModel("model", 1);
        Path toks = goodTokens();
        Path st = model.resolve(HfModelDir.SINGLE);
        byte[] all = Files.readAllBytes(st);
        Files.write(st, java.util.Arrays.copyOf(all, all.length / 2));
        Path out = tmp.resolve("g.safetensors");
        assertUserError(Cli.run("eval", "--checkpoint", model.toString(), "--tokens", toks.toString(),
                "--seq-len", Integer.toString(SEQ_LEN), "--json"), st.toString());
        assertUserError(grad(model, toks, out), st.toString());
        assertThat(out).doesNotExist();

        // config.json without any weights file: the error names what is missing.
        Files.delete(st);
        assertUserError(grad(model, toks, out), model.toString(), HfModelDir.SINGLE);
        assertThat(out).doesNotExist();
    }

    @Test
    void gradIntoMissingDirectory() throws Exception {
        Path model = initModel("model", 1);
        Path out = tmp.resolve("no-such-dir").resolve("g.safetensors");
        assertUserError(grad(model, goodTokens(), out), out.toString(), "does not exist");
        assertThat(out.getParent()).doesNotExist();
    }

    // ------------------------------------------------------------------ train-local

    static List<Long> metricSteps(Path run) throws IOException {
        List<Long> steps = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                JsonNode n = JSON.readTree(line);
                assertThat(n.get("loss").isNumber()).as(line).isTrue();
                steps.add(n.get("step").asLong());
            }
        }
        return steps;
    }

    static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().collect(Collectors.toList());
    }

    Cli.Result trainLocal(Path run, int steps, String... extra) throws IOException {
        List<String> a = new ArrayList<>(List.of("train-local", "--model", configFile().toString(),
                "--out", run.toString(), "--steps", Integer.toString(steps), "--batch", "2", "--seq-len", "16",
                "--warmup", "2", "--checkpoint-every", "7", "--threads", "2", "--seed", "3"));
        a.addAll(List.of(extra));
        return Cli.run(a.toArray(String[]::new));
    }

    static String latest(Path run) throws IOException {
        return Files.readString(TrainerCheckpoint.checkpointsDir(run).resolve(TrainerCheckpoint.LATEST)).trim();
    }

    @Test
    void trainLocalResumeAndEvalOnRunDir() throws Exception {
        Path run = tmp.resolve("run");
        Cli.Result first = trainLocal(run, 20);
        assertThat(first.exit()).as(first.describe()).isZero();
        assertThat(metricSteps(run)).isEqualTo(range(1, 20));
        assertThat(latest(run)).isEqualTo(TrainerCheckpoint.dirName(20));

        // Without --resume a second run into the same directory is refused and changes nothing.
        byte[] metricsBefore = Files.readAllBytes(run.resolve("metrics.jsonl"));
        assertUserError(trainLocal(run, 30), "--resume");
        assertThat(Files.readAllBytes(run.resolve("metrics.jsonl"))).isEqualTo(metricsBefore);

        Cli.Result resumed = trainLocal(run, 30, "--resume");
        assertThat(resumed.exit()).as(resumed.describe()).isZero();
        assertThat(resumed.out()).contains("resumed from step 20");
        assertThat(metricSteps(run)).as("metrics.jsonl holds steps 1..30 once each").isEqualTo(range(1, 30));
        assertThat(latest(run)).isEqualTo(TrainerCheckpoint.dirName(30));

        // eval / grad accept the run dir and resolve it to checkpoints/latest.
        Path toks = tokens("train-eval.bin", Cli.randomTokens(9, ROWS, SEQ_LEN, VOCAB));
        JsonNode viaRun = evalJson(run, toks);
        JsonNode viaCkpt = evalJson(TrainerCheckpoint.checkpointsDir(run).resolve(TrainerCheckpoint.dirName(30)), toks);
        assertThat(viaRun.get("loss").asDouble()).isFinite().isEqualTo(viaCkpt.get("loss").asDouble());
        Path g = tmp.resolve("run-grads.safetensors");
        Cli.Result gr = grad(run, toks, g);
        assertThat(gr.exit()).as(gr.describe()).isZero();
        assertThat(g).isRegularFile();
    }

    /**
     * A run that died after logging steps 15..20 but before committing their checkpoint resumes from step 14:
     * the resumed run must not leave steps 15..20 twice in metrics.jsonl.
     */
    @Test
    void resumeAfterCrashDoesNotDuplicateMetrics() throws Exception {
        Path run = tmp.resolve("run");
        Cli.Result first = trainLocal(run, 20);
        assertThat(first.exit()).as(first.describe()).isZero();
        Path ckpts = TrainerCheckpoint.checkpointsDir(run);
        // Simulate the crash: the step-20 checkpoint never got committed.
        Files.delete(ckpts.resolve(TrainerCheckpoint.dirName(20)).resolve(TrainerCheckpoint.COMMITTED));
        Files.writeString(ckpts.resolve("latest.tmp"), TrainerCheckpoint.dirName(14) + "\n");
        Files.move(ckpts.resolve("latest.tmp"), ckpts.resolve(TrainerCheckpoint.LATEST),
                StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

        // ... and the process died while writing the line of step 21.
        Files.writeString(run.resolve("metrics.jsonl"), "{\"step\":21,\"lo", StandardOpenOption.APPEND);

        Cli.Result resumed = trainLocal(run, 30, "--resume");
        assertThat(resumed.exit()).as(resumed.describe()).isZero();
        assertThat(resumed.out()).contains("resumed from step 14");
        assertThat(metricSteps(run)).as("metrics.jsonl holds steps 1..30 once each").isEqualTo(range(1, 30));
    }
}
