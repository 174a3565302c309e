package io.sparkseek.model.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link ModelConfig}: HF config.json round trip, spec §1.4 validation, presets, spec §9.4 example. */
class ModelConfigTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static Path presetDir() {
        String root = System.getProperty("sparkseek.root");
        Path start = root != null ? Path.of(root) : Path.of("").toAbsolutePath();
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("conf/models"))) {
                return p.resolve("conf/models");
            }
        }
        throw new IllegalStateException("conf/models not found above " + start);
    }

    private static ModelConfig tiny() throws IOException {
        return ModelConfig.read(presetDir().resolve("tiny.json"));
    }

    private static ObjectNode tinyJson() throws IOException {
        return (ObjectNode) JSON.readTree(tiny().toJson());
    }

    @Test
    void presetsLoadAndAreCanonical() throws IOException {
        ModelConfig small = ModelConfig.read(presetDir().resolve("small.json"));
        assertThat(small.hiddenSize()).isEqualTo(256);
        assertThat(small.numHiddenLayers()).isEqualTo(4);
        assertThat(small.qLoraRank()).isEqualTo(128);
        assertThat(small.vocabSize()).isEqualTo(8192);
        assertThat(small.maxPositionEmbeddings()).isEqualTo(1024);
        assertThat(small.qkHeadDim()).isEqualTo(48);
        assertThat(small.expertsPerGroup()).isEqualTo(4);
        assertThat(small.sharedIntermediate()).isEqualTo(128);
        assertThat(small.isMoeLayer(0)).isFalse();
        assertThat(small.isMoeLayer(1)).isTrue();
        assertThat(small.hasQLora()).isTrue();
        assertThat(small.extra()).isEmpty();

        ModelConfig tiny = tiny();
        assertThat(tiny.vocabSize()).isEqualTo(512);
        assertThat(tiny.hiddenSize()).isEqualTo(64);
        assertThat(tiny.nRoutedExperts()).isEqualTo(8);
        assertThat(tiny.numExpertsPerTok()).isEqualTo(2);
        assertThat(tiny.qkHeadDim()).isEqualTo(24);
        assertThat(tiny.expertsPerGroup()).isEqualTo(2);
        assertThat(tiny.rmsNormEps()).isEqualTo(1e-6);
        assertThat(tiny.routedScalingFactor()).isEqualTo(1.0);
        assertThatThrownBy(() -> tiny.isMoeLayer(3)).hasMessageContaining("num_hidden_layers = 3");

        for (String name : List.of("small.json", "tiny.json")) {
            Path p = presetDir().resolve(name);
            assertThat(Files.readString(p)).as(name).isEqualTo(ModelConfig.read(p).toJson());
        }
    }

    @Test
    void roundTripsThroughJsonAndFile() throws IOException {
        ModelConfig c = tiny().toBuilder().putExtra("torch_dtype", "bfloat16")
                .putExtra("quantization_config", Map.of("weight_block_size", List.of(128, 128))).build();
        assertThat(ModelConfig.fromJson(c.toJson())).isEqualTo(c);
        JsonNode out = JSON.readTree(c.toJson());
        assertThat(out.get("model_type").asText()).isEqualTo("deepseek_v3");
        assertThat(out.get("architectures").toString()).isEqualTo("[\"DeepseekV3ForCausalLM\"]");
        assertThat(out.get("rope_scaling").isNull()).isTrue();
        Path p = dir.resolve("config.json");
        c.write(p);
        assertThat(ModelConfig.read(p)).isEqualTo(c);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(p);
        }
    }

    @Test
    void specSection94ExampleParses() {
        String example = """
            {
              "architectures": ["DeepseekV3ForCausalLM"],
              "model_type": "deepseek_v3",
              "vocab_size": 99, "hidden_size": 32, "intermediate_size": 32, "moe_intermediate_size": 16,
              "num_hidden_layers": 2, "first_k_dense_replace": 1,
              "num_attention_heads": 4, "num_key_value_heads": 4,
              "q_lora_rank": 32, "kv_lora_rank": 16, "qk_nope_head_dim": 32, "qk_rope_head_dim": 16, "v_head_dim": 32,
              "n_routed_experts": 8, "n_shared_experts": 1, "num_experts_per_tok": 2,
              "n_group": 2, "topk_group": 1, "norm_topk_prob": true, "routed_scaling_factor": 2.5,
              "hidden_act": "silu", "rms_norm_eps": 1e-06, "max_position_embeddings": 512,
              "rope_theta": 10000.0, "rope_scaling": null, "rope_interleave": true,
              "attention_bias": false, "attention_dropout": 0.0,
              "tie_word_embeddings": false, "initializer_range": 0.02,
              "bos_token_id": 0, "eos_token_id": 1,
              "torch_dtype": "bfloat16", "use_cache": true
            }
            """;
        ModelConfig c = ModelConfig.fromJson(example);
        assertThat(c.vocabSize()).isEqualTo(99);
        assertThat(c.qkHeadDim()).isEqualTo(48);
        assertThat(c.expertsPerGroup()).isEqualTo(4);
        assertThat(c.scoringFunc()).isEqualTo("sigmoid");
        assertThat(c.numNextnPredictLayers()).isZero();
        assertThat(c.extra()).containsExactly(Map.entry("torch_dtype", "bfloat16"), Map.entry("use_cache", true));
        assertThat(ModelConfig.fromJson(c.toJson())).isEqualTo(c);
        // the HF unit-test value (8 of 8 experts with 1 of 2 groups) violates spec §1.4
        assertThatThrownBy(() -> ModelConfig.fromJson(example.replace("\"num_experts_per_tok\": 2",
                "\"num_experts_per_tok\": 8")))
                .hasMessageContaining("num_experts_per_tok (8) must be ≤ topk_group × experts per group = 1 × 4");
    }

    @Test
    void realDeepSeekV3ConfigRoundTripsOnceYarnIsRemoved() throws IOException {
        String v3 = """
            {
              "architectures": ["DeepseekV3ForCausalLM"],
              "attention_bias": false, "attention_dropout": 0.0,
              "auto_map": {"AutoConfig": "configuration_deepseek.DeepseekV3Config",
                           "AutoModel": "modeling_deepseek.DeepseekV3Model",
                           "AutoModelForCausalLM": "modeling_deepseek.DeepseekV3ForCausalLM"},
              "aux_loss_alpha": 0.001, "bos_token_id": 0, "eos_token_id": 1, "ep_size": 1,
              "first_k_dense_replace": 3, "hidden_act": "silu", "hidden_size": 7168, "initializer_range": 0.02,
              "intermediate_size": 18432, "kv_lora_rank": 512, "max_position_embeddings": 163840,
              "model_type": "deepseek_v3", "moe_intermediate_size": 2048, "moe_layer_freq": 1, "n_group": 8,
              "n_routed_experts": 256, "n_shared_experts": 1, "norm_topk_prob": true, "num_attention_heads": 128,
              "num_experts_per_tok": 8, "num_hidden_layers": 61, "num_key_value_heads": 128,
              "num_nextn_predict_layers": 1, "pretraining_tp": 1, "q_lora_rank": 1536, "qk_nope_head_dim": 128,
              "qk_rope_head_dim": 64,
              "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                      "weight_block_size": [128, 128]},
              "rms_norm_eps": 1e-06,
              "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0,
                               "original_max_position_embeddings": 4096, "type": "yarn"},
              "rope_theta": 10000, "routed_scaling_factor": 2.5, "scoring_func": "sigmoid", "seq_aux": true,
              "tie_word_embeddings": false, "topk_group": 4, "topk_method": "noaux_tc", "torch_dtype": "bfloat16",
              "transformers_version": "4.33.1", "use_cache": true, "v_head_dim": 128, "vocab_size": 129280
            }
            """;
        assertThatThrownBy(() -> ModelConfig.fromJson(v3))
                .hasMessageContainingAll("rope_scaling", "YaRN", "\"rope_scaling\": null");
        ObjectNode in = (ObjectNode) JSON.readTree(v3);
        in.putNull("rope_scaling");
        ModelConfig c = ModelConfig.fromJson(in.toString());
        assertThat(c.numNextnPredictLayers()).isEqualTo(1);
        assertThat(c.extra().keySet()).containsExactly("auto_map", "aux_loss_alpha", "ep_size", "moe_layer_freq",
                "pretraining_tp", "quantization_config", "seq_aux", "torch_dtype", "transformers_version", "use_cache");
        ObjectNode out = (ObjectNode) JSON.readTree(c.toJson());
        assertThat(out.remove("rope_interleave").booleanValue()).isTrue(); // the only key we add
        Comparator<JsonNode> byValue = (a, b) -> a.isNumber() && b.isNumber()
                ? Double.compare(a.doubleValue(), b.doubleValue()) : a.equals(b) ? 0 : 1;
        assertThat(out.equals(byValue, in)).as(out.toString()).isTrue();
        assertThat(ModelConfig.fromJson(c.toJson())).isEqualTo(c);
        assertThatThrownBy(() -> c.extra().put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> q = (Map<String, Object>) c.extra().get("quantization_config");
        assertThatThrownBy(() -> q.put("fmt", "e5m2")).isInstanceOf(UnsupportedOperationException.class);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("n_group", 3, "n_routed_experts (8) must be divisible by n_group (3): choose n_group"
                        + " among 1, 2, 4"),
                Arguments.of("n_group", 8, "n_group (8) leaves 1 expert(s) per group"),
                Arguments.of("topk_group", 5, "topk_group (5) must be ≤ n_group (4)"),
                Arguments.of("num_experts_per_tok", 5, "num_experts_per_tok (5) must be ≤ topk_group × experts per"
                        + " group = 2 × 2 = 4"),
                Arguments.of("qk_rope_head_dim", 7, "qk_rope_head_dim (7) must be even"),
                Arguments.of("num_key_value_heads", 2, "num_key_value_heads (2) must equal num_attention_heads (4)"),
                Arguments.of("hidden_size", 0, "hidden_size (0) must be positive"),
                Arguments.of("vocab_size", -5, "vocab_size (-5) must be positive"),
                Arguments.of("moe_intermediate_size", 0, "moe_intermediate_size (0) must be positive"),
                Arguments.of("kv_lora_rank", 0, "kv_lora_rank (0) must be positive"),
                Arguments.of("v_head_dim", 0, "v_head_dim (0) must be positive"),
                Arguments.of("n_shared_experts", 0, "n_shared_experts (0) must be positive"),
                Arguments.of("max_position_embeddings", 0, "max_position_embeddings (0) must be positive"),
                Arguments.of("q_lora_rank", -3, "q_lora_rank (-3) must be positive"),
                Arguments.of("first_k_dense_replace", 4, "first_k_dense_replace (4) must be within [0,"
                        + " num_hidden_layers = 3]"),
                Arguments.of("first_k_dense_replace", -1, "first_k_dense_replace (-1)"),
                Arguments.of("num_nextn_predict_layers", -1, "num_nextn_predict_layers (-1)"),
                Arguments.of("scoring_func", "softmax", "scoring_func (\"softmax\") must be \"sigmoid\""),
                Arguments.of("topk_method", "greedy", "topk_method (\"greedy\") must be \"noaux_tc\""),
                Arguments.of("rope_scaling", Map.of("type", "yarn", "factor", 40), "YaRN is not implemented"),
                Arguments.of("rope_interleave", false, "rope_interleave (false) must be true"),
                Arguments.of("tie_word_embeddings", true, "tie_word_embeddings (true) is not supported: set it to"
                        + " false"),
                Arguments.of("hidden_act", "gelu", "hidden_act (\"gelu\") must be \"silu\""),
                Arguments.of("attention_bias", true, "attention_bias (true) must be false"),
                Arguments.of("attention_dropout", 0.1, "attention_dropout (0.1) must be 0.0"),
                Arguments.of("rms_norm_eps", 0.0, "rms_norm_eps (0.0) must be a positive finite number"),
                Arguments.of("rope_theta", -1.0, "rope_theta (-1.0) must be a positive finite number"),
                Arguments.of("routed_scaling_factor", 0, "routed_scaling_factor (0.0) must be a positive"),
                Arguments.of("initializer_range", 0, "initializer_range (0.0) must be a positive"),
                Arguments.of("bos_token_id", 512, "bos_token_id (512) must be within [0, vocab_size = 512)"),
                Arguments.of("eos_token_id", -1, "eos_token_id (-1) must be within"),
                Arguments.of("model_type", "llama", "model_type (\"llama\") must be \"deepseek_v3\""),
                Arguments.of("head_dim", 24, "head_dim (24) must equal qk_rope_head_dim"),
                Arguments.of("qk_head_dim", 16, "qk_head_dim (16) must equal qk_nope_head_dim + qk_rope_head_dim"
                        + " = 24"),
                Arguments.of("hidden_size", "64", "hidden_size must be an integer, got \"64\""),
                Arguments.of("hidden_size", 64.5, "hidden_size must be an integer, got 64.5"),
                Arguments.of("norm_topk_prob", "yes", "norm_topk_prob must be true or false"),
                Arguments.of("eos_token_id", List.of(1, 2), "eos_token_id must be an integer, got [1,2]"));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("invalid")
    void rejectsInvalidValueNamingTheKey(String key, Object value, String message) throws IOException {
        ObjectNode o = tinyJson();
        o.set(key, JSON.valueToTree(value));
        assertThatThrownBy(() -> ModelConfig.fromJson(o.toString()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("config JSON: ")
                .hasMessageContainingAll(key, message);
    }

    @Test
    void readErrorsNameTheFileAndKey() throws IOException {
        ObjectNode o = tinyJson();
        o.remove("hidden_size");
        Path p = dir.resolve("bad.json");
        Files.writeString(p, o.toString());
        assertThatThrownBy(() -> ModelConfig.read(p))
                .hasMessageStartingWith(p + ": hidden_size is missing");
        Files.writeString(p, "{\"vocab_size\": 1, \"vocab_size\": 2}");
        assertThatThrownBy(() -> ModelConfig.read(p)).hasMessageContainingAll(p.toString(), "not valid JSON",
                "vocab_size");
        Files.writeString(p, "[]");
        assertThatThrownBy(() -> ModelConfig.read(p)).hasMessageContainingAll(p.toString(), "JSON object");
    }

    @Test
    void defaultsAndNormalization() throws IOException {
        ObjectNode o = tinyJson();
        for (String k : List.of("num_key_value_heads", "rope_theta", "rms_norm_eps", "scoring_func", "topk_method",
                "rope_interleave", "rope_scaling", "num_nextn_predict_layers", "bos_token_id", "model_type",
                "architectures")) {
            o.remove(k);
        }
        o.put("q_lora_rank", 0);
        ModelConfig c = ModelConfig.fromJson(o.toString());
        assertThat(c.numKeyValueHeads()).isEqualTo(c.numAttentionHeads());
        assertThat(c.ropeTheta()).isEqualTo(10000.0);
        assertThat(c.rmsNormEps()).isEqualTo(1e-6);
        assertThat(c.bosTokenId()).isZero();
        assertThat(c.qLoraRank()).isNull();
        assertThat(c.hasQLora()).isFalse();
        assertThat(JSON.readTree(c.toJson()).get("q_lora_rank").isNull()).isTrue();
        o.remove("q_lora_rank");
        assertThatThrownBy(() -> ModelConfig.fromJson(o.toString())).hasMessageContaining("q_lora_rank is missing");
        ObjectNode ok = tinyJson();
        ok.put("head_dim", 8).put("qk_head_dim", 24);
        assertThat(ModelConfig.fromJson(ok.toString()).extra()).containsEntry("head_dim", 8);
    }

    @Test
    void builderValidatesToo() throws IOException {
        assertThat(ModelConfig.builder().build().qkHeadDim()).isEqualTo(192); // HF defaults = 671B shapes
        assertThatThrownBy(() -> tiny().toBuilder().nGroup(3).build())
                .hasMessageStartingWith("n_routed_experts (8) must be divisible by n_group (3)");
        assertThatThrownBy(() -> tiny().toBuilder().putExtra("hidden_size", 3).build())
                .hasMessageContaining("extra must not hold the known key hidden_size");
    }
}
