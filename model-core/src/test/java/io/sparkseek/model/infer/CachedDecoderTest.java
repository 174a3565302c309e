package io.sparkseek.model.infer;

import io.sparkseek.model.TestModels;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * KV-cached MLA decoding ({@link CachedDecoder}, weight absorption over the latent cache) against the uncached
 * training forward of {@link DeepSeekModel} (naive per-head MLA): logits at every position, and greedy token
 * sequences against {@link RecomputeDecoder} (a full forward of the whole prefix per step).
 *
 * <p>Tolerance: max |Δlogit| ≤ 1e-4 · max(1, max |logit|) — FP32 with a different summation order (absorbed vs
 * expanded keys/values); the observed difference is printed.
 */
class CachedDecoderTest {
    private static final double REL_TOL = 1e-4;

    /** Weights N(0, std) (larger than the init's 0.02, so attention and routing are decisive), biases N(0, 0.05). */
    static DeepSeekModel model(ModelConfig cfg, long seed, double std) {
        DeepSeekModel m = new DeepSeekModel(cfg, 0f);
        m.initialize(seed);
        float f = (float) (std / cfg.initializerRange());
        for (Param p : m.params()) {
            if (p.rank() == 2) {
                float[] w = p.w();
                for (int i = 0; i < w.length; i++) {
                    w[i] *= f;
                }
            }
        }
        Random rnd = new Random(seed + 7);
        for (float[] b : m.routerBiases().values()) {
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) (rnd.nextGaussian() * 0.05);
            }
        }
        return m;
    }

    static ModelConfig tinyPreset() {
        String root = System.getProperty("sparkseek.root");
        Path start = root != null && !root.contains("${") ? Path.of(root) : Path.of("").toAbsolutePath();
        for (Path p = start.toAbsolutePath(); p != null; p = p.getParent()) {
            Path f = p.resolve("conf/models/tiny.json");
            if (Files.isRegularFile(f)) {
                try {
                    return ModelConfig.read(f);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        throw new IllegalStateException("conf/models/tiny.json not found above " + start);
    }

    static Stream<Arguments> configs() {
        ModelConfig micro = TestModels.micro(16);
        return Stream.of(
                Arguments.of("conf/models/tiny.json (q LoRA, first_k_dense_replace 1)", tinyPreset()),
                Arguments.of("micro, q LoRA 16, first_k_dense_replace 1", micro),
                Arguments.of("micro, q_lora_rank 0 (q_proj), all MoE, no norm_topk_prob",
                        micro.toBuilder().qLoraRank(null).firstKDenseReplace(0).normTopkProb(false).build()),
                Arguments.of("micro, first_k_dense_replace 2, 3 heads",
                        micro.toBuilder().firstKDenseReplace(2).numAttentionHeads(3).numKeyValueHeads(3).build()));
    }

    static int[] randomTokens(int vocab, int n, long seed) {
        Random rnd = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rnd.nextInt(vocab);
        }
        return t;
    }

    /** Logits of the uncached training forward over {@code tokens}: [T, V], row t = prefix [0, t]. */
    static float[] fullForwardLogits(DeepSeekModel m, ComputePool pool, int[] tokens) {
        int[] row = Arrays.copyOf(tokens, tokens.length + 1);
        m.forward(pool, row, 1, tokens.length);
        return m.lastLogits();
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void cachedLogitsEqualFullForwardAtEveryPosition(String name, ModelConfig cfg) {
        DeepSeekModel m = model(cfg, 3, 0.15);
        int vocab = cfg.vocabSize();
        int total = 48;
        int prefill = 7;
        int[] tokens = randomTokens(vocab, total, 5);
        try (ComputePool pool = new ComputePool(2)) {
            float[] ref = fullForwardLogits(m, pool, tokens);
            CachedDecoder dec = new CachedDecoder(m);
            float[] got = new float[total * vocab];
            // prefill a chunk (causal inside it), then one token per call
            System.arraycopy(dec.appendAll(pool, Arrays.copyOf(tokens, prefill)), 0, got, 0, prefill * vocab);
            for (int t = prefill; t < total; t++) {
                float[] l = dec.append(pool, new int[] {tokens[t]});
                assertThat(l).hasSize(vocab);
                System.arraycopy(l, 0, got, t * vocab, vocab);
            }
            assertThat(dec.length()).isEqualTo(total);
            assertThat(dec.cache().floatsPerToken())
                    .as("only cKV and k_pe are cached")
                    .isEqualTo(cfg.numHiddenLayers() * (cfg.kvLoraRank() + cfg.qkRopeHeadDim()));

            double scale = Math.max(1.0, maxAbs(ref));
            double worst = 0;
            for (int t = 0; t < total; t++) {
                double d = 0;
                for (int v = 0; v < vocab; v++) {
                    d = Math.max(d, Math.abs(got[t * vocab + v] - ref[t * vocab + v]));
                }
                assertThat(d).as("%s: position %d, max |Δlogit| (logit scale %.3f)", name, t, scale)
                        .isLessThanOrEqualTo(REL_TOL * scale);
                worst = Math.max(worst, d);
            }
            System.out.printf("CachedDecoderTest %s: max |Δlogit| %.3g, max |logit| %.3g%n", name, worst, scale);
            assertThat(scale).as("logits are not trivially small").isGreaterThan(0.5);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void greedyTokensEqualRecomputedFullForward(String name, ModelConfig cfg) {
        DeepSeekModel m = model(cfg, 11, 0.15);
        int newTokens = 40;
        int[][] prompts = {
            randomTokens(cfg.vocabSize(), 1, 21),
            randomTokens(cfg.vocabSize(), 5, 22),
            randomTokens(cfg.vocabSize(), 17, 23)};
        int distinct = 0;
        try (ComputePool pool = new ComputePool(2)) {
            for (int[] prompt : prompts) {
                Generator.Result cached = new Generator(new CachedDecoder(m), -1)
                        .generate(pool, prompt, newTokens, new Sampler(SamplingParams.GREEDY), id -> { });
                Generator.Result full = new Generator(new RecomputeDecoder(m), -1)
                        .generate(pool, prompt, newTokens, new Sampler(SamplingParams.GREEDY), id -> { });
                assertThat(cached.tokens()).as("%s, prompt of %d", name, prompt.length).hasSize(newTokens)
                        .isEqualTo(full.tokens());
                assertThat(cached.stop()).isEqualTo(Generator.StopReason.MAX_NEW_TOKENS);
                assertThat(cached.decodeSteps()).isEqualTo(newTokens - 1);
                distinct += (int) Arrays.stream(cached.tokens()).distinct().count();
            }
        }
        assertThat(distinct).as("greedy output is not one repeated token").isGreaterThan(prompts.length);
    }

    @Test
    void sampledTokensEqualRecomputedFullForwardForTheSameSeed() {
        ModelConfig cfg = TestModels.micro(16);
        DeepSeekModel m = model(cfg, 12, 0.15);
        int[] prompt = randomTokens(cfg.vocabSize(), 6, 31);
        SamplingParams p = new SamplingParams(0.9, 0.9, 1234);
        try (ComputePool pool = new ComputePool(2)) {
            int[] cached = new Generator(new CachedDecoder(m), -1)
                    .generate(pool, prompt, 30, new Sampler(p), id -> { }).tokens();
            int[] again = new Generator(new CachedDecoder(m), -1)
                    .generate(pool, prompt, 30, new Sampler(p), id -> { }).tokens();
            int[] full = new Generator(new RecomputeDecoder(m), -1)
                    .generate(pool, prompt, 30, new Sampler(p), id -> { }).tokens();
            assertThat(again).as("same seed, same tokens").isEqualTo(cached);
            assertThat(full).as("cached vs uncached, same seed").isEqualTo(cached);
        }
    }

    @Test
    void decoderIsReusableAfterResetAndRefusesTooLongSequences() {
        ModelConfig cfg = TestModels.micro(16).toBuilder().maxPositionEmbeddings(12).build();
        DeepSeekModel m = model(cfg, 4, 0.15);
        int[] tokens = randomTokens(cfg.vocabSize(), 12, 9);
        try (ComputePool pool = new ComputePool(1)) {
            CachedDecoder dec = new CachedDecoder(m);
            float[] first = dec.append(pool, tokens);
            dec.reset();
            assertThat(dec.append(pool, tokens)).isEqualTo(first);
            assertThatThrownBy(() -> dec.append(pool, new int[] {1}))
                    .hasMessageContaining("max_position_embeddings = 12");
            dec.reset();
            assertThatThrownBy(() -> dec.append(pool, new int[] {cfg.vocabSize()}))
                    .hasMessageContaining("outside the vocabulary");
        }
    }

    @Test
    void refusesFp8Models() {
        DeepSeekModel m = new DeepSeekModel(TestModels.micro(16), 0f,
                io.sparkseek.model.config.PrecisionPolicy.fp8(io.sparkseek.model.kernel.JavaBackend.INSTANCE));
        assertThatThrownBy(() -> new CachedDecoder(m)).hasMessageContaining("FP32 only");
    }
}
