package io.sparkseek.it;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.io.HfModelDir;
import io.sparkseek.model.io.Safetensors;
import io.sparkseek.model.io.SafetensorsFile;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue requirement: {@code eval} and {@code grad} agree with an independent implementation of the same spec
 * ({@code tests/reference/deepseek_v3_ref.py}, PyTorch, float64): loss to 1e-5 relative, each gradient tensor to
 * 1e-4 (max |diff| / max |ref|), in FP32, with {@code q_lora_rank} set and null, several dense and MoE layers and
 * non-zero routing biases. The model is built and saved by Java, both sides read the same HF directory and token
 * file, and the CLI is driven through {@code Main.run} exactly as a user would.
 */
class ReferenceCrossCheckTest {
    static final Path PYTHON = Path.of("/usr/bin/python3");
    static final String INSTALL_HINT = "the PyTorch reference cross-check needs /usr/bin/python3 with torch and"
            + " numpy: run `apt-get install python3-torch` (.ci/run installs it)";
    static final int SEQ_LEN = 24;
    static final int ROWS = 3;
    static final double LOSS_REL_TOL = 1e-5;
    static final double GRAD_TOL = 1e-4;
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> TABLE = new ArrayList<>();

    static Path refScript;

    /** One cross-check: a config, the seed of its weights/biases/tokens, and the balance-loss alpha for grad. */
    record Case(String name, ModelConfig cfg, long seed, float alpha, int seqLen, int rows) {
        Case(String name, ModelConfig cfg, long seed, float alpha) {
            this(name, cfg, seed, alpha, SEQ_LEN, ROWS);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static ModelConfig.Builder tiny() {
        return ModelConfig.builder()
                .vocabSize(37).hiddenSize(16).intermediateSize(24).moeIntermediateSize(8)
                .numHiddenLayers(3).firstKDenseReplace(1)
                .numAttentionHeads(2).numKeyValueHeads(2)
                .qLoraRank(12).kvLoraRank(8).qkNopeHeadDim(6).qkRopeHeadDim(4).vHeadDim(5)
                .nRoutedExperts(8).nSharedExperts(1).numExpertsPerTok(3).nGroup(4).topkGroup(2)
                .normTopkProb(true).routedScalingFactor(2.5)
                .rmsNormEps(1e-6).ropeTheta(10000.0).maxPositionEmbeddings(64)
                .initializerRange(0.1);
    }

    static Stream<Case> cases() {
        ModelConfig twoDenseTwoMoe = tiny().vocabSize(50).numHiddenLayers(4).firstKDenseReplace(2)
                .numAttentionHeads(3).numKeyValueHeads(3).nSharedExperts(2)
                .normTopkProb(false).routedScalingFactor(1.7).build();
        return Stream.of(
                new Case("q_lora=12 1D+2M rsf=2.5", tiny().build(), 11, 0f),
                new Case("q_lora=null 1D+2M rsf=1 eps=1e-5", tiny().qLoraRank(null).routedScalingFactor(1.0)
                        .rmsNormEps(1e-5).build(), 12, 0f),
                new Case("2D+2M norm_topk=false rsf=1.7", twoDenseTwoMoe, 13, 0f),
                new Case("q_lora=null 0D+2M E=6 G=1 K=2", tiny().qLoraRank(null).numHiddenLayers(2)
                        .firstKDenseReplace(0).nRoutedExperts(6).nGroup(1).topkGroup(1).numExpertsPerTok(2)
                        .nSharedExperts(1).build(), 14, 0f),
                new Case("E=16 G=8 TG=3 K=4 norm_topk=false", tiny().nRoutedExperts(16).nGroup(8).topkGroup(3)
                        .numExpertsPerTok(4).normTopkProb(false).routedScalingFactor(0.8).build(), 15, 0f),
                new Case("2D+2M alpha=0.01 (grad)", twoDenseTwoMoe, 16, 0.01f),
                // rows longer than the attention core's causal block (64): several row and key blocks
                new Case("T=150 causal blocks", tiny().maxPositionEmbeddings(160).build(), 17, 0f, 150, 2));
    }

    @BeforeAll
    static void requirePythonAndTorch() throws Exception {
        refScript = Cli.repoRoot().resolve("tests/reference/deepseek_v3_ref.py");
        assertThat(refScript).as("reference script").isRegularFile();
        if (!Files.isExecutable(PYTHON)) {
            fail(PYTHON + " not found: " + INSTALL_HINT);
        }
        Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import torch, numpy; print(torch.__version__)")
                .redirectErrorStream(true).start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("`" + PYTHON + " -c 'import torch'` did not finish in 180 s; " + INSTALL_HINT);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.exitValue() != 0) {
            fail("`" + PYTHON + " -c 'import torch, numpy'` failed (" + out + "): " + INSTALL_HINT);
        }
    }

    @AfterAll
    static void printTable() {
        System.out.println();
        System.out.println("Reference cross-check (Java FP32 CLI vs PyTorch float64; tolerances: loss "
                + LOSS_REL_TOL + " rel, grad " + GRAD_TOL + " max|diff|/max|ref|)");
        System.out.printf("%-36s %10s %10s %10s  %-58s %s%n", "case", "eval loss", "grad loss", "worst grad",
                "worst tensor", "bias-flipped routes");
        TABLE.forEach(System.out::println);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void cliAgreesWithPyTorchReference(Case c, @TempDir Path tmp) throws Exception {
        Path modelDir = tmp.resolve("model");
        Path tokens = tmp.resolve("tokens.bin");
        Path javaGrads = tmp.resolve("grad-java.safetensors");
        Path refGrads = tmp.resolve("grad-ref.safetensors");

        DeepSeekModel model = randomModel(c);
        HfModelDir.save(model, modelDir);
        int[] toks = Cli.randomTokens(c.seed() * 31 + 7, c.rows(), c.seqLen(), c.cfg().vocabSize());
        Cli.writeInts(tokens, toks);
        int flipped = routesChangedByBiases(model, toks, c.rows(), c.seqLen());
        assertThat(flipped).as("the non-zero routing biases must change some expert selections, else the test"
                + " does not exercise them").isPositive();

        // The reference (independent truth, float64) runs concurrently with the Java CLI.
        Path refOut = tmp.resolve("ref.out");
        Path refErr = tmp.resolve("ref.err");
        List<String> refCmd = new ArrayList<>(List.of(PYTHON.toString(), refScript.toString(),
                "--model", modelDir.toString(), "--tokens", tokens.toString(), "--seq-len", Integer.toString(c.seqLen()),
                "--json", "--grad-out", refGrads.toString()));
        if (c.alpha() != 0f) {
            refCmd.addAll(List.of("--alpha", Float.toString(c.alpha())));
        }
        Process ref = new ProcessBuilder(refCmd).redirectOutput(refOut.toFile()).redirectError(refErr.toFile()).start();

        Cli.Result eval = Cli.run("eval", "--checkpoint", modelDir.toString(), "--tokens", tokens.toString(),
                "--seq-len", Integer.toString(c.seqLen()), "--json");
        List<String> gradArgs = new ArrayList<>(List.of("grad", "--checkpoint", modelDir.toString(),
                "--tokens", tokens.toString(), "--seq-len", Integer.toString(c.seqLen()), "--out", javaGrads.toString()));
        if (c.alpha() != 0f) {
            gradArgs.addAll(List.of("--balance-alpha", Float.toString(c.alpha())));
        }
        Cli.Result grad = Cli.run(gradArgs.toArray(String[]::new));

        if (!ref.waitFor(300, TimeUnit.SECONDS)) {
            ref.destroyForcibly();
            fail("the PyTorch reference did not finish in 300 s: " + String.join(" ", refCmd));
        }
        String refStdout = Files.readString(refOut, StandardCharsets.UTF_8);
        assertThat(ref.exitValue()).as("reference exit code; stderr:\n%s", Files.readString(refErr)).isZero();
        JsonNode refJson = singleJsonObject(refStdout, "reference stdout");

        assertThat(eval.exit()).as(eval.describe()).isZero();
        JsonNode evalJson = singleJsonObject(eval.out(), "eval --json stdout");
        assertThat(grad.exit()).as(grad.describe()).isZero();

        // eval: plain CE (never alpha), token count, expert loads exactly.
        double refCe = refJson.get("ce_loss").asDouble();
        double refTotal = refJson.get("loss").asDouble();
        double evalLoss = evalJson.get("loss").asDouble();
        double evalRel = Math.abs(evalLoss - refCe) / Math.abs(refCe);
        assertThat(evalJson.get("tokens").asLong()).isEqualTo(refJson.get("tokens").asLong()).isEqualTo(c.rows() * c.seqLen());
        assertThat(evalJson.get("perplexity").asDouble()).isCloseTo(Math.exp(evalLoss), offset(1e-9 * Math.exp(evalLoss)));
        assertThat(fieldNames(evalJson.get("expert_load"))).as("expert_load layers")
                .isEqualTo(fieldNames(refJson.get("expert_load")));
        for (Iterator<String> it = refJson.get("expert_load").fieldNames(); it.hasNext(); ) {
            String layer = it.next();
            assertThat(longs(evalJson.get("expert_load").get(layer))).as("expert_load of %s", layer)
                    .isEqualTo(longs(refJson.get("expert_load").get(layer)));
        }

        // grad: total loss (CE + alpha * balance) in the metadata, then every tensor.
        String worstName = "";
        double worst = 0;
        double gradRel;
        try (SafetensorsFile j = Safetensors.open(javaGrads); SafetensorsFile r = Safetensors.open(refGrads)) {
            double gradLoss = Double.parseDouble(j.metadata().get("loss"));
            gradRel = Math.abs(gradLoss - refTotal) / Math.abs(refTotal);
            assertThat(new TreeSet<>(j.names())).as("gradient tensor names").isEqualTo(new TreeSet<>(r.names()));
            List<String> bad = new ArrayList<>();
            for (String name : r.names()) {
                assertThat(j.info(name).shape()).as("shape of %s", name).isEqualTo(r.info(name).shape());
                double err = relMaxDiff(j.getFloats(name), r.getFloats(name));
                if (err > worst) {
                    worst = err;
                    worstName = name;
                }
                if (!(err <= GRAD_TOL)) {
                    bad.add(name + " " + String.format("%.3e", err));
                }
            }
            TABLE.add(String.format("%-36s %10.2e %10.2e %10.2e  %-58s %d", c.name(), evalRel, gradRel, worst,
                    worstName, flipped));
            assertThat(bad).as("gradient tensors beyond %s (max|diff|/max|ref|)", GRAD_TOL).isEmpty();
        }
        assertThat(evalRel).as("eval loss %s vs reference CE %s (relative)", evalLoss, refCe)
                .isLessThanOrEqualTo(LOSS_REL_TOL);
        assertThat(gradRel).as("grad metadata loss vs reference total loss %s (relative)", refTotal)
                .isLessThanOrEqualTo(LOSS_REL_TOL);
        if (c.alpha() != 0f) {
            assertThat(refTotal - refCe).as("the balance loss must contribute in the alpha case").isGreaterThan(1e-6);
        }
    }

    /**
     * Seeded init with a larger std than the default so routing is decisive; norm weights 1 + N(0, 0.1);
     * routing biases ±U(0.01, 0.05).
     */
    static DeepSeekModel randomModel(Case c) {
        DeepSeekModel m = new DeepSeekModel(c.cfg(), 0f);
        m.initialize(c.seed());
        Random rnd = new Random(c.seed() ^ 0x5DEECE66DL);
        for (Param p : m.params()) {
            if (p.rank() == 1) {
                float[] w = p.w();
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) (1.0 + 0.1 * rnd.nextGaussian());
                }
            }
        }
        for (float[] b : m.routerBiases().values()) {
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) ((rnd.nextBoolean() ? 1 : -1) * (0.01 + 0.04 * rnd.nextDouble()));
            }
        }
        return m;
    }

    /** Tokens (over all MoE layers) whose selected expert set changes when the routing biases are zeroed. */
    static int routesChangedByBiases(DeepSeekModel m, int[] toks, int rows, int seqLen) {
        int k = m.config().numExpertsPerTok();
        try (ComputePool pool = new ComputePool(2)) {
            m.forward(pool, toks, rows, seqLen);
            Map<String, int[]> with = m.routingSelections();
            Map<String, float[]> saved = new java.util.LinkedHashMap<>();
            m.routerBiases().forEach((n, b) -> {
                saved.put(n, b.clone());
                Arrays.fill(b, 0f);
            });
            m.forward(pool, toks, rows, seqLen);
            Map<String, int[]> without = m.routingSelections();
            saved.forEach((n, b) -> System.arraycopy(b, 0, m.routerBiases().get(n), 0, b.length));
            int changed = 0;
            for (String layer : with.keySet()) {
                int[] a = with.get(layer);
                int[] z = without.get(layer);
                for (int t = 0; t < a.length / k; t++) {
                    int[] x = Arrays.copyOfRange(a, t * k, t * k + k);
                    int[] y = Arrays.copyOfRange(z, t * k, t * k + k);
                    Arrays.sort(x);
                    Arrays.sort(y);
                    if (!Arrays.equals(x, y)) {
                        changed++;
                    }
                }
            }
            return changed;
        }
    }

    static double relMaxDiff(float[] got, float[] ref) {
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) got[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs((double) ref[i]));
        }
        if (Double.isNaN(maxDiff) || Double.isNaN(maxRef)) {
            return Double.NaN;
        }
        if (maxRef == 0) {
            return maxDiff == 0 ? 0 : Double.POSITIVE_INFINITY;
        }
        return maxDiff / maxRef;
    }

    /** Parses {@code text} as exactly one JSON object followed only by whitespace. */
    static JsonNode singleJsonObject(String text, String what) throws IOException {
        assertThat(text.strip()).as("%s must be one line holding one JSON object: %s", what, text)
                .startsWith("{").endsWith("}").doesNotContain("\n");
        try (JsonParser p = JSON.createParser(text)) {
            JsonNode node = JSON.readTree(p);
            assertThat(node.isObject()).as("%s is a JSON object", what).isTrue();
            assertThat(p.nextToken()).as("%s has nothing after its JSON object", what).isNull();
            return node;
        }
    }

    static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        out.sort(null);
        return out;
    }

    static long[] longs(JsonNode arr) {
        long[] out = new long[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asLong();
        }
        return out;
    }
}
