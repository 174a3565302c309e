package io.sparkseek.model.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkseek.model.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The model architecture: the HuggingFace DeepseekV3 {@code config.json} keys of spec §1.1, validated against the
 * constraints of spec §1.4 by the canonical constructor (so every instance is valid).
 *
 * <p>JSON uses the HF snake_case names; components are their camelCase forms. Reading requires the keys that fix
 * tensor shapes and routing (see {@link #REQUIRED_KEYS}); other absent keys take HF's {@code DeepseekV3Config}
 * defaults ({@code num_key_value_heads} defaults to {@code num_attention_heads}). Keys this class does not know
 * ({@code torch_dtype}, {@code quantization_config}, {@code auto_map}, {@code aux_loss_alpha}, …) are kept in
 * {@link #extra()} in input order and written back unchanged, so a real DeepSeek-V3 {@code config.json}
 * round-trips — once its {@code rope_scaling} is set to null, since YaRN is not supported. {@code head_dim} and
 * {@code qk_head_dim} may appear in {@code extra} only with their derived values (spec §1.1 pitfall).
 * {@code model_type} must be {@code deepseek_v3} if present; {@code architectures} is always written as
 * {@code ["DeepseekV3ForCausalLM"]}. {@code q_lora_rank} 0 (official convention) is normalized to null (HF
 * convention: plain {@code q_proj}). {@code num_nextn_predict_layers} is read and written but MTP is not
 * implemented: it is ignored by the model. Output is written with keys sorted, like HF's {@code save_pretrained}.
 */
public record ModelConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int moeIntermediateSize,
        int numHiddenLayers,
        int firstKDenseReplace,
        int nRoutedExperts,
        int nSharedExperts,
        int numExpertsPerTok,
        int nGroup,
        int topkGroup,
        double routedScalingFactor,
        boolean normTopkProb,
        String scoringFunc,
        String topkMethod,
        Integer qLoraRank,
        int kvLoraRank,
        int qkNopeHeadDim,
        int qkRopeHeadDim,
        int vHeadDim,
        int numAttentionHeads,
        int numKeyValueHeads,
        double ropeTheta,
        Map<String, Object> ropeScaling,
        boolean ropeInterleave,
        double rmsNormEps,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        String hiddenAct,
        boolean attentionBias,
        double attentionDropout,
        double initializerRange,
        Integer bosTokenId,
        Integer eosTokenId,
        int numNextnPredictLayers,
        Map<String, Object> extra) {

    /** {@code model_type} written to and required (if present) in config.json. */
    public static final String MODEL_TYPE = "deepseek_v3";
    /** {@code architectures} entry written to config.json. */
    public static final String ARCHITECTURE = "DeepseekV3ForCausalLM";

    /** Keys that must be present when reading (they fix tensor shapes or routing; {@code q_lora_rank} may be null). */
    public static final List<String> REQUIRED_KEYS = List.of(
            "vocab_size", "hidden_size", "intermediate_size", "moe_intermediate_size", "num_hidden_layers",
            "first_k_dense_replace", "n_routed_experts", "n_shared_experts", "num_experts_per_tok", "n_group",
            "topk_group", "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim",
            "num_attention_heads");

    /** Every HF key mapped to a component, plus {@code model_type} and {@code architectures}. */
    private static final Set<String> KNOWN_KEYS = Set.of(
            "model_type", "architectures",
            "vocab_size", "hidden_size", "intermediate_size", "moe_intermediate_size", "num_hidden_layers",
            "first_k_dense_replace", "n_routed_experts", "n_shared_experts", "num_experts_per_tok", "n_group",
            "topk_group", "routed_scaling_factor", "norm_topk_prob", "scoring_func", "topk_method", "q_lora_rank",
            "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "num_attention_heads",
            "num_key_value_heads", "rope_theta", "rope_scaling", "rope_interleave", "rms_norm_eps",
            "max_position_embeddings", "tie_word_embeddings", "hidden_act", "attention_bias", "attention_dropout",
            "initializer_range", "bos_token_id", "eos_token_id", "num_nextn_predict_layers");

    private static final TypeReference<Map<String, Object>> MAP_TYPE = new TypeReference<>() { };

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** Canonical constructor: normalizes ({@code q_lora_rank} 0 → null, {@code extra} frozen) and validates. */
    public ModelConfig(int vocabSize, int hiddenSize, int intermediateSize, int moeIntermediateSize,
                       int numHiddenLayers, int firstKDenseReplace, int nRoutedExperts, int nSharedExperts,
                       int numExpertsPerTok, int nGroup, int topkGroup, double routedScalingFactor,
                       boolean normTopkProb, String scoringFunc, String topkMethod, Integer qLoraRank,
                       int kvLoraRank, int qkNopeHeadDim, int qkRopeHeadDim, int vHeadDim, int numAttentionHeads,
                       int numKeyValueHeads, double ropeTheta, Map<String, Object> ropeScaling,
                       boolean ropeInterleave, double rmsNormEps, int maxPositionEmbeddings,
                       boolean tieWordEmbeddings, String hiddenAct, boolean attentionBias, double attentionDropout,
                       double initializerRange, Integer bosTokenId, Integer eosTokenId, int numNextnPredictLayers,
                       Map<String, Object> extra) {
        this.vocabSize = vocabSize;
        this.hiddenSize = hiddenSize;
        this.intermediateSize = intermediateSize;
        this.moeIntermediateSize = moeIntermediateSize;
        this.numHiddenLayers = numHiddenLayers;
        this.firstKDenseReplace = firstKDenseReplace;
        this.nRoutedExperts = nRoutedExperts;
        this.nSharedExperts = nSharedExperts;
        this.numExpertsPerTok = numExpertsPerTok;
        this.nGroup = nGroup;
        this.topkGroup = topkGroup;
        this.routedScalingFactor = routedScalingFactor;
        this.normTopkProb = normTopkProb;
        this.scoringFunc = scoringFunc;
        this.topkMethod = topkMethod;
        this.qLoraRank = qLoraRank != null && qLoraRank == 0 ? null : qLoraRank;
        this.kvLoraRank = kvLoraRank;
        this.qkNopeHeadDim = qkNopeHeadDim;
        this.qkRopeHeadDim = qkRopeHeadDim;
        this.vHeadDim = vHeadDim;
        this.numAttentionHeads = numAttentionHeads;
        this.numKeyValueHeads = numKeyValueHeads;
        this.ropeTheta = ropeTheta;
        this.ropeScaling = ropeScaling == null ? null : freezeMap(ropeScaling);
        this.ropeInterleave = ropeInterleave;
        this.rmsNormEps = rmsNormEps;
        this.maxPositionEmbeddings = maxPositionEmbeddings;
        this.tieWordEmbeddings = tieWordEmbeddings;
        this.hiddenAct = hiddenAct;
        this.attentionBias = attentionBias;
        this.attentionDropout = attentionDropout;
        this.initializerRange = initializerRange;
        this.bosTokenId = bosTokenId;
        this.eosTokenId = eosTokenId;
        this.numNextnPredictLayers = numNextnPredictLayers;
        this.extra = extra == null ? Collections.emptyMap() : freezeMap(extra);
        validate();
    }

    // ------------------------------------------------------------------ derived

    /** {@code qk_nope_head_dim + qk_rope_head_dim} (HF {@code qk_head_dim}). */
    public int qkHeadDim() {
        return qkNopeHeadDim + qkRopeHeadDim;
    }

    /** Whether queries use the low-rank path ({@code q_a_proj}, {@code q_a_layernorm}, {@code q_b_proj}). */
    public boolean hasQLora() {
        return qLoraRank != null;
    }

    /** Whether main decoder layer {@code layer} (0-based) uses MoE rather than the dense FFN. */
    public boolean isMoeLayer(int layer) {
        if (layer < 0 || layer >= numHiddenLayers) {
            throw new IndexOutOfBoundsException("layer " + layer + " is outside [0, num_hidden_layers = "
                    + numHiddenLayers + ")");
        }
        return layer >= firstKDenseReplace;
    }

    /** Width of the shared-expert MLP: {@code moe_intermediate_size × n_shared_experts}. */
    public int sharedIntermediate() {
        return moeIntermediateSize * nSharedExperts;
    }

    /** Routed experts per group: {@code n_routed_experts / n_group}. */
    public int expertsPerGroup() {
        return nRoutedExperts / nGroup;
    }

    // ------------------------------------------------------------------ validation (spec §1.4)

    /**
     * Checks spec §1.4 and the supported subset of features; called by the canonical constructor. Throws
     * {@link IllegalArgumentException} whose message names the HF key, the bad value and the fix.
     */
    public void validate() {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("moe_intermediate_size", moeIntermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("n_routed_experts", nRoutedExperts);
        positive("n_shared_experts", nSharedExperts);
        positive("num_experts_per_tok", numExpertsPerTok);
        positive("n_group", nGroup);
        positive("topk_group", topkGroup);
        positive("kv_lora_rank", kvLoraRank);
        positive("qk_nope_head_dim", qkNopeHeadDim);
        positive("qk_rope_head_dim", qkRopeHeadDim);
        positive("v_head_dim", vHeadDim);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("max_position_embeddings", maxPositionEmbeddings);
        if (qLoraRank != null && qLoraRank < 0) {
            fail("q_lora_rank (" + qLoraRank + ") must be positive, or null for a plain q_proj");
        }
        if (numNextnPredictLayers < 0) {
            fail("num_nextn_predict_layers (" + numNextnPredictLayers + ") must be ≥ 0 (MTP is not implemented;"
                    + " use 0)");
        }
        if (firstKDenseReplace < 0 || firstKDenseReplace > numHiddenLayers) {
            fail("first_k_dense_replace (" + firstKDenseReplace + ") must be within [0, num_hidden_layers = "
                    + numHiddenLayers + "]: it counts the leading dense layers");
        }
        if (nRoutedExperts % nGroup != 0) {
            fail("n_routed_experts (" + nRoutedExperts + ") must be divisible by n_group (" + nGroup
                    + "): choose n_group among " + validGroupCounts());
        }
        if (nRoutedExperts / nGroup < 2) {
            fail("n_group (" + nGroup + ") leaves " + nRoutedExperts / nGroup + " expert(s) per group but each"
                    + " group needs ≥ 2 (a group is scored by the sum of its top-2 experts): choose n_group among "
                    + validGroupCounts());
        }
        if (topkGroup > nGroup) {
            fail("topk_group (" + topkGroup + ") must be ≤ n_group (" + nGroup + ")");
        }
        if (numExpertsPerTok > topkGroup * expertsPerGroup()) {
            fail("num_experts_per_tok (" + numExpertsPerTok + ") must be ≤ topk_group × experts per group = "
                    + topkGroup + " × " + expertsPerGroup() + " = " + topkGroup * expertsPerGroup()
                    + ", else experts from unselected groups are picked: lower num_experts_per_tok or raise"
                    + " topk_group");
        }
        if (qkRopeHeadDim % 2 != 0) {
            fail("qk_rope_head_dim (" + qkRopeHeadDim + ") must be even (RoPE rotates pairs): use "
                    + (qkRopeHeadDim + 1));
        }
        if (numKeyValueHeads != numAttentionHeads) {
            fail("num_key_value_heads (" + numKeyValueHeads + ") must equal num_attention_heads ("
                    + numAttentionHeads + "): MLA has one key/value per head; set it to " + numAttentionHeads);
        }
        if (!"sigmoid".equals(scoringFunc)) {
            fail("scoring_func (" + quote(scoringFunc) + ") must be \"sigmoid\": DeepSeek-V3 routing scores are"
                    + " sigmoids (softmax was V2)");
        }
        if (!"noaux_tc".equals(topkMethod)) {
            fail("topk_method (" + quote(topkMethod) + ") must be \"noaux_tc\": the router always uses"
                    + " bias-corrected group-limited top-k");
        }
        if (ropeScaling != null) {
            fail("rope_scaling (" + ropeScaling + ") is not supported: YaRN is not implemented; set"
                    + " \"rope_scaling\": null and max_position_embeddings to the trained context");
        }
        if (!ropeInterleave) {
            fail("rope_interleave (false) must be true or absent: the model uses DeepSeek's interleaved RoPE"
                    + " layout (spec §3.3)");
        }
        if (tieWordEmbeddings) {
            fail("tie_word_embeddings (true) is not supported: set it to false (lm_head is its own weight)");
        }
        if (!"silu".equals(hiddenAct)) {
            fail("hidden_act (" + quote(hiddenAct) + ") must be \"silu\": the FFNs are SwiGLU");
        }
        if (attentionBias) {
            fail("attention_bias (true) must be false: DeepSeek-V3 projections have no bias");
        }
        if (attentionDropout != 0.0) {
            fail("attention_dropout (" + attentionDropout + ") must be 0.0: dropout is not implemented");
        }
        finitePositive("routed_scaling_factor", routedScalingFactor, "e.g. 1.0");
        finitePositive("rope_theta", ropeTheta, "e.g. 10000.0");
        finitePositive("rms_norm_eps", rmsNormEps, "use 1e-6 (HF's q_a/kv_a norms always use 1e-6)");
        finitePositive("initializer_range", initializerRange, "e.g. 0.02");
        tokenId("bos_token_id", bosTokenId);
        tokenId("eos_token_id", eosTokenId);
        for (String key : extra.keySet()) {
            if (KNOWN_KEYS.contains(key)) {
                fail("extra must not hold the known key " + key + ": set the record component instead");
            }
        }
        derivedExtra("head_dim", qkRopeHeadDim, "qk_rope_head_dim (HF's RoPE uses head_dim)");
        derivedExtra("qk_head_dim", qkHeadDim(), "qk_nope_head_dim + qk_rope_head_dim");
    }

    private String validGroupCounts() {
        if (nRoutedExperts < 2) {
            return "none (n_routed_experts must be ≥ 2)";
        }
        return IntStream.rangeClosed(1, nRoutedExperts / 2)
                .filter(g -> nRoutedExperts % g == 0)
                .mapToObj(Integer::toString).collect(Collectors.joining(", "));
    }

    private static void positive(String key, int value) {
        if (value <= 0) {
            fail(key + " (" + value + ") must be positive");
        }
    }

    private static void finitePositive(String key, double value, String fix) {
        if (!(value > 0) || Double.isInfinite(value)) {
            fail(key + " (" + value + ") must be a positive finite number: " + fix);
        }
    }

    private void tokenId(String key, Integer id) {
        if (id != null && (id < 0 || id >= vocabSize)) {
            fail(key + " (" + id + ") must be within [0, vocab_size = " + vocabSize + ")");
        }
    }

    private void derivedExtra(String key, int derived, String what) {
        if (!extra.containsKey(key)) {
            return;
        }
        Object v = extra.get(key);
        if (!(v instanceof Number n) || n.doubleValue() != derived) {
            fail(key + " (" + v + ") must equal " + what + " = " + derived
                    + ", or be removed: a wrong value overrides HF's derived one and breaks attention");
        }
    }

    private static String quote(String s) {
        return s == null ? "null" : "\"" + s + "\"";
    }

    private static void fail(String message) {
        throw new IllegalArgumentException(message);
    }

    // ------------------------------------------------------------------ JSON

    /** Reads and validates an HF {@code config.json}; errors name the file and the key. */
    public static ModelConfig read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not valid UTF-8 text; save config.json as UTF-8", e);
        }
        return parse(text, file.toString());
    }

    /** Parses and validates config JSON text; errors name the key. */
    public static ModelConfig fromJson(String json) {
        return parse(json, "config JSON");
    }

    private static ModelConfig parse(String json, String source) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": not valid JSON: " + e.getOriginalMessage()
                    + " at line " + e.getLocation().getLineNr(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(source + ": must be a JSON object of HF config keys");
        }
        try {
            return fromNode((ObjectNode) root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static ModelConfig fromNode(ObjectNode o) {
        JsonNode mt = o.get("model_type");
        if (mt != null && !(mt.isTextual() && mt.asText().equals(MODEL_TYPE))) {
            fail("model_type (" + mt + ") must be \"" + MODEL_TYPE + "\": only DeepSeek-V3 is implemented");
        }
        for (String key : REQUIRED_KEYS) {
            if (!o.has(key)) {
                fail(key + " is missing: it fixes the model's shapes or routing and has no safe default; add it");
            }
        }
        Map<String, Object> extra = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : o.properties()) {
            if (!KNOWN_KEYS.contains(e.getKey())) {
                extra.put(e.getKey(), MAPPER.convertValue(e.getValue(), Object.class));
            }
        }
        int heads = reqInt(o, "num_attention_heads");
        JsonNode rs = o.get("rope_scaling");
        Map<String, Object> scaling = null;
        if (rs != null && !rs.isNull()) { // rejected by validate(), with the fix
            scaling = rs.isObject() ? MAPPER.convertValue(rs, MAP_TYPE)
                    : Collections.singletonMap("value", MAPPER.convertValue(rs, Object.class));
        }
        return new ModelConfig(
                reqInt(o, "vocab_size"),
                reqInt(o, "hidden_size"),
                reqInt(o, "intermediate_size"),
                reqInt(o, "moe_intermediate_size"),
                reqInt(o, "num_hidden_layers"),
                reqInt(o, "first_k_dense_replace"),
                reqInt(o, "n_routed_experts"),
                reqInt(o, "n_shared_experts"),
                reqInt(o, "num_experts_per_tok"),
                reqInt(o, "n_group"),
                reqInt(o, "topk_group"),
                optDouble(o, "routed_scaling_factor", Defaults.ROUTED_SCALING_FACTOR),
                optBool(o, "norm_topk_prob", true),
                optString(o, "scoring_func", "sigmoid"),
                optString(o, "topk_method", "noaux_tc"),
                nullableInt(o, "q_lora_rank", null),
                reqInt(o, "kv_lora_rank"),
                reqInt(o, "qk_nope_head_dim"),
                reqInt(o, "qk_rope_head_dim"),
                reqInt(o, "v_head_dim"),
                heads,
                o.has("num_key_value_heads") ? reqInt(o, "num_key_value_heads") : heads,
                optDouble(o, "rope_theta", Defaults.ROPE_THETA),
                scaling,
                optBool(o, "rope_interleave", true),
                optDouble(o, "rms_norm_eps", Defaults.RMS_NORM_EPS),
                optInt(o, "max_position_embeddings", Defaults.MAX_POSITION_EMBEDDINGS),
                optBool(o, "tie_word_embeddings", false),
                optString(o, "hidden_act", "silu"),
                optBool(o, "attention_bias", false),
                optDouble(o, "attention_dropout", 0.0),
                optDouble(o, "initializer_range", Defaults.INITIALIZER_RANGE),
                nullableInt(o, "bos_token_id", 0),
                nullableInt(o, "eos_token_id", 1),
                optInt(o, "num_nextn_predict_layers", 0),
                extra);
    }

    private static int reqInt(JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (v == null) {
            fail(key + " is missing: add it");
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            fail(key + " must be an integer, got " + v);
        }
        return v.intValue();
    }

    private static int optInt(JsonNode o, String key, int def) {
        return o.has(key) ? reqInt(o, key) : def;
    }

    private static Integer nullableInt(JsonNode o, String key, Integer def) {
        JsonNode v = o.get(key);
        if (v == null) {
            return def;
        }
        return v.isNull() ? null : reqInt(o, key);
    }

    private static double optDouble(JsonNode o, String key, double def) {
        JsonNode v = o.get(key);
        if (v == null) {
            return def;
        }
        if (!v.isNumber()) {
            fail(key + " must be a number, got " + v);
        }
        return v.doubleValue();
    }

    private static boolean optBool(JsonNode o, String key, boolean def) {
        JsonNode v = o.get(key);
        if (v == null) {
            return def;
        }
        if (!v.isBoolean()) {
            fail(key + " must be true or false, got " + v);
        }
        return v.booleanValue();
    }

    private static String optString(JsonNode o, String key, String def) {
        JsonNode v = o.get(key);
        if (v == null) {
            return def;
        }
        if (!v.isTextual()) {
            fail(key + " must be a string, got " + v);
        }
        return v.textValue();
    }

    /** The HF {@code config.json} text: pretty-printed, keys sorted, HF names, plus {@link #extra()}. */
    public String toJson() {
        Map<String, Object> m = new TreeMap<>(extra);
        m.put("architectures", List.of(ARCHITECTURE));
        m.put("model_type", MODEL_TYPE);
        m.put("vocab_size", vocabSize);
        m.put("hidden_size", hiddenSize);
        m.put("intermediate_size", intermediateSize);
        m.put("moe_intermediate_size", moeIntermediateSize);
        m.put("num_hidden_layers", numHiddenLayers);
        m.put("first_k_dense_replace", firstKDenseReplace);
        m.put("n_routed_experts", nRoutedExperts);
        m.put("n_shared_experts", nSharedExperts);
        m.put("num_experts_per_tok", numExpertsPerTok);
        m.put("n_group", nGroup);
        m.put("topk_group", topkGroup);
        m.put("routed_scaling_factor", routedScalingFactor);
        m.put("norm_topk_prob", normTopkProb);
        m.put("scoring_func", scoringFunc);
        m.put("topk_method", topkMethod);
        m.put("q_lora_rank", qLoraRank);
        m.put("kv_lora_rank", kvLoraRank);
        m.put("qk_nope_head_dim", qkNopeHeadDim);
        m.put("qk_rope_head_dim", qkRopeHeadDim);
        m.put("v_head_dim", vHeadDim);
        m.put("num_attention_heads", numAttentionHeads);
        m.put("num_key_value_heads", numKeyValueHeads);
        m.put("rope_theta", ropeTheta);
        m.put("rope_scaling", ropeScaling);
        m.put("rope_interleave", ropeInterleave);
        m.put("rms_norm_eps", rmsNormEps);
        m.put("max_position_embeddings", maxPositionEmbeddings);
        m.put("tie_word_embeddings", tieWordEmbeddings);
        m.put("hidden_act", hiddenAct);
        m.put("attention_bias", attentionBias);
        m.put("attention_dropout", attentionDropout);
        m.put("initializer_range", initializerRange);
        m.put("bos_token_id", bosTokenId);
        m.put("eos_token_id", eosTokenId);
        m.put("num_nextn_predict_layers", numNextnPredictLayers);
        DefaultIndenter indent = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance()
                        .withObjectFieldValueSpacing(Separators.Spacing.AFTER));
        pp.indentObjectsWith(indent);
        pp.indentArraysWith(indent);
        try {
            return MAPPER.writer(pp).writeValueAsString(m) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize config: " + e.getMessage(), e);
        }
    }

    /** Writes {@link #toJson()} to {@code file} atomically. */
    public void write(Path file) throws IOException {
        AtomicFiles.writeBytes(file, toJson().getBytes(StandardCharsets.UTF_8));
    }

    /** A builder starting from these values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A builder starting from HF {@code DeepseekV3Config} defaults (the 671B shapes, no YaRN). */
    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------ immutability helpers

    private static Map<String, Object> freezeMap(Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(String.valueOf(k), freeze(v)));
        return Collections.unmodifiableMap(out);
    }

    private static Object freeze(Object v) {
        if (v instanceof Map<?, ?> m) {
            return freezeMap(m);
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(x -> out.add(freeze(x)));
            return Collections.unmodifiableList(out);
        }
        return v;
    }

    /** HF {@code DeepseekV3Config} defaults used for absent optional keys. */
    private static final class Defaults {
        static final double ROUTED_SCALING_FACTOR = 2.5;
        static final double ROPE_THETA = 10000.0;
        static final double RMS_NORM_EPS = 1e-6;
        static final int MAX_POSITION_EMBEDDINGS = 4096;
        static final double INITIALIZER_RANGE = 0.02;
    }

    /** Mutable builder for tests and tools; {@link #build()} validates. */
    public static final class Builder {
        private int vocabSize = 129280;
        private int hiddenSize = 7168;
        private int intermediateSize = 18432;
        private int moeIntermediateSize = 2048;
        private int numHiddenLayers = 61;
        private int firstKDenseReplace = 3;
        private int nRoutedExperts = 256;
        private int nSharedExperts = 1;
        private int numExpertsPerTok = 8;
        private int nGroup = 8;
        private int topkGroup = 4;
        private double routedScalingFactor = Defaults.ROUTED_SCALING_FACTOR;
        private boolean normTopkProb = true;
        private String scoringFunc = "sigmoid";
        private String topkMethod = "noaux_tc";
        private Integer qLoraRank = 1536;
        private int kvLoraRank = 512;
        private int qkNopeHeadDim = 128;
        private int qkRopeHeadDim = 64;
        private int vHeadDim = 128;
        private int numAttentionHeads = 128;
        private int numKeyValueHeads = 128;
        private double ropeTheta = Defaults.ROPE_THETA;
        private Map<String, Object> ropeScaling;
        private boolean ropeInterleave = true;
        private double rmsNormEps = Defaults.RMS_NORM_EPS;
        private int maxPositionEmbeddings = Defaults.MAX_POSITION_EMBEDDINGS;
        private boolean tieWordEmbeddings;
        private String hiddenAct = "silu";
        private boolean attentionBias;
        private double attentionDropout;
        private double initializerRange = Defaults.INITIALIZER_RANGE;
        private Integer bosTokenId = 0;
        private Integer eosTokenId = 1;
        private int numNextnPredictLayers;
        private Map<String, Object> extra = new LinkedHashMap<>();

        private Builder() {
        }

        private Builder(ModelConfig c) {
            vocabSize = c.vocabSize;
            hiddenSize = c.hiddenSize;
            intermediateSize = c.intermediateSize;
            moeIntermediateSize = c.moeIntermediateSize;
            numHiddenLayers = c.numHiddenLayers;
            firstKDenseReplace = c.firstKDenseReplace;
            nRoutedExperts = c.nRoutedExperts;
            nSharedExperts = c.nSharedExperts;
            numExpertsPerTok = c.numExpertsPerTok;
            nGroup = c.nGroup;
            topkGroup = c.topkGroup;
            routedScalingFactor = c.routedScalingFactor;
            normTopkProb = c.normTopkProb;
            scoringFunc = c.scoringFunc;
            topkMethod = c.topkMethod;
            qLoraRank = c.qLoraRank;
            kvLoraRank = c.kvLoraRank;
            qkNopeHeadDim = c.qkNopeHeadDim;
            qkRopeHeadDim = c.qkRopeHeadDim;
            vHeadDim = c.vHeadDim;
            numAttentionHeads = c.numAttentionHeads;
            numKeyValueHeads = c.numKeyValueHeads;
            ropeTheta = c.ropeTheta;
            ropeScaling = c.ropeScaling;
            ropeInterleave = c.ropeInterleave;
            rmsNormEps = c.rmsNormEps;
            maxPositionEmbeddings = c.maxPositionEmbeddings;
            tieWordEmbeddings = c.tieWordEmbeddings;
            hiddenAct = c.hiddenAct;
            attentionBias = c.attentionBias;
            attentionDropout = c.attentionDropout;
            initializerRange = c.initializerRange;
            bosTokenId = c.bosTokenId;
            eosTokenId = c.eosTokenId;
            numNextnPredictLayers = c.numNextnPredictLayers;
            extra = new LinkedHashMap<>(c.extra);
        }

        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }
        public Builder moeIntermediateSize(int v) { moeIntermediateSize = v; return this; }
        public Builder numHiddenLayers(int v) { numHiddenLayers = v; return this; }
        public Builder firstKDenseReplace(int v) { firstKDenseReplace = v; return this; }
        public Builder nRoutedExperts(int v) { nRoutedExperts = v; return this; }
        public Builder nSharedExperts(int v) { nSharedExperts = v; return this; }
        public Builder numExpertsPerTok(int v) { numExpertsPerTok = v; return this; }
        public Builder nGroup(int v) { nGroup = v; return this; }
        public Builder topkGroup(int v) { topkGroup = v; return this; }
        public Builder routedScalingFactor(double v) { routedScalingFactor = v; return this; }
        public Builder normTopkProb(boolean v) { normTopkProb = v; return this; }
        public Builder scoringFunc(String v) { scoringFunc = v; return this; }
        public Builder topkMethod(String v) { topkMethod = v; return this; }
        public Builder qLoraRank(Integer v) { qLoraRank = v; return this; }
        public Builder kvLoraRank(int v) { kvLoraRank = v; return this; }
        public Builder qkNopeHeadDim(int v) { qkNopeHeadDim = v; return this; }
        public Builder qkRopeHeadDim(int v) { qkRopeHeadDim = v; return this; }
        public Builder vHeadDim(int v) { vHeadDim = v; return this; }
        public Builder numAttentionHeads(int v) { numAttentionHeads = v; return this; }
        public Builder numKeyValueHeads(int v) { numKeyValueHeads = v; return this; }
        public Builder ropeTheta(double v) { ropeTheta = v; return this; }
        public Builder ropeScaling(Map<String, Object> v) { ropeScaling = v; return this; }
        public Builder ropeInterleave(boolean v) { ropeInterleave = v; return this; }
        public Builder rmsNormEps(double v) { rmsNormEps = v; return this; }
        public Builder maxPositionEmbeddings(int v) { maxPositionEmbeddings = v; return this; }
        public Builder tieWordEmbeddings(boolean v) { tieWordEmbeddings = v; return this; }
        public Builder hiddenAct(String v) { hiddenAct = v; return this; }
        public Builder attentionBias(boolean v) { attentionBias = v; return this; }
        public Builder attentionDropout(double v) { attentionDropout = v; return this; }
        public Builder initializerRange(double v) { initializerRange = v; return this; }
        public Builder bosTokenId(Integer v) { bosTokenId = v; return this; }
        public Builder eosTokenId(Integer v) { eosTokenId = v; return this; }
        public Builder numNextnPredictLayers(int v) { numNextnPredictLayers = v; return this; }
        public Builder extra(Map<String, Object> v) { extra = new LinkedHashMap<>(v); return this; }
        public Builder putExtra(String key, Object value) { extra.put(key, value); return this; }

        /** Builds and validates. */
        public ModelConfig build() {
            return new ModelConfig(vocabSize, hiddenSize, intermediateSize, moeIntermediateSize, numHiddenLayers,
                    firstKDenseReplace, nRoutedExperts, nSharedExperts, numExpertsPerTok, nGroup, topkGroup,
                    routedScalingFactor, normTopkProb, scoringFunc, topkMethod, qLoraRank, kvLoraRank,
                    qkNopeHeadDim, qkRopeHeadDim, vHeadDim, numAttentionHeads, numKeyValueHeads, ropeTheta,
                    ropeScaling, ropeInterleave, rmsNormEps, maxPositionEmbeddings, tieWordEmbeddings, hiddenAct,
                    attentionBias, attentionDropout, initializerRange, bosTokenId, eosTokenId,
                    numNextnPredictLayers, extra);
        }
    }
}
