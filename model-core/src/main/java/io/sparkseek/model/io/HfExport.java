package io.sparkseek.model.io;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.fp8.BlockQuantizer;
import io.sparkseek.model.fp8.QuantizedMatrix;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Writes a model in the HuggingFace DeepSeek-V3 layout of spec §9 into a local directory: {@code config.json}
 * (only keys {@code DeepseekV3Config} knows, plus {@code torch_dtype} and, for FP8, {@code quantization_config}),
 * {@code generation_config.json}, and the weights as one {@code model.safetensors} or, above the shard size,
 * {@code model-0000i-of-0000K.safetensors} shards with {@code model.safetensors.index.json}.
 *
 * <p>Weights are written FP32, BF16 (round to nearest even), or FP8: exactly the tensors the official release
 * quantizes (spec §9.3: the attention projections and every dense, shared and routed expert projection) become
 * F8_E4M3 codes of {@code w / s} (round to nearest even, saturating) with {@code weight_scale_inv = s =
 * max(amax, 1e-4) / 448} per 128×128 block, ragged edges included; the embedding, {@code lm_head}, the norms and the
 * router are BF16. {@code mlp.gate.e_score_correction_bias} is always F32. Each safetensors file carries
 * {@code __metadata__ {"format": "pt", "producer": "sparkseek-export"}}, which is how a reader knows to require
 * the {@code _SUCCESS} marker ({@link ExportMarker}) that the publisher writes last.
 *
 * <p>Tensors are materialised one shard at a time, so the extra memory is one shard, not a copy of the model.
 */
public final class HfExport {
    /** HF's default {@code max_shard_size} ("5GB"). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;
    public static final String GENERATION_CONFIG = "generation_config.json";
    /** Suffix of the per-block scale next to an FP8 weight ({@code X.weight} → {@code X.weight_scale_inv}). */
    public static final String SCALE_SUFFIX = "_scale_inv";
    /** The {@code __metadata__} entry that marks a file as part of a SparkSeek export. */
    public static final String PRODUCER_KEY = "producer";
    public static final String PRODUCER = "sparkseek-export";
    /** Sampling defaults of DeepSeek-V3's own generation_config.json. */
    public static final double GENERATION_TEMPERATURE = 0.6;
    public static final double GENERATION_TOP_P = 0.95;

    /** The projections spec §9.3 lists as FP8 in the official release ({@code q_proj} when there is no q LoRA). */
    private static final Pattern QUANTIZED = Pattern.compile(
            "^model\\.layers\\.\\d+\\.(self_attn\\.(q_a_proj|q_b_proj|q_proj|kv_a_proj_with_mqa|kv_b_proj|o_proj)"
                    + "|mlp\\.(experts\\.\\d+\\.|shared_experts\\.)?(gate_proj|up_proj|down_proj))\\.weight$");

    /**
     * config.json keys written: {@code DeepseekV3Config}'s constructor arguments, the legacy {@code rope_theta} /
     * {@code rope_scaling} it still converts, the generic {@code architectures}, {@code model_type},
     * {@code torch_dtype}, {@code quantization_config}, and the three routing keys DeepSeek's own config.json carries
     * ({@code scoring_func}, {@code topk_method}, {@code num_nextn_predict_layers}). Anything else in the
     * training config is dropped.
     */
    static final Set<String> CONFIG_KEYS = Set.of(
            "architectures", "model_type", "torch_dtype", "quantization_config", "use_cache",
            "vocab_size", "hidden_size", "intermediate_size", "moe_intermediate_size", "num_hidden_layers",
            "num_attention_heads", "num_key_value_heads", "n_shared_experts", "n_routed_experts",
            "routed_scaling_factor", "kv_lora_rank", "q_lora_rank", "qk_rope_head_dim", "v_head_dim",
            "qk_nope_head_dim", "n_group", "topk_group", "num_experts_per_tok", "first_k_dense_replace",
            "norm_topk_prob", "hidden_act", "max_position_embeddings", "initializer_range", "rms_norm_eps",
            "bos_token_id", "eos_token_id", "tie_word_embeddings", "rope_theta", "rope_scaling", "rope_interleave",
            "attention_bias", "attention_dropout", "scoring_func", "topk_method", "num_nextn_predict_layers");

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfExport() {
    }

    /** Whether the official FP8 release stores HF weight {@code name} as F8_E4M3 + weight_scale_inv (spec §9.3). */
    public static boolean isQuantized(String name) {
        return QUANTIZED.matcher(name).matches();
    }

    /** One weight (and, for FP8, its scale): its tensors are built only when its shard is written. */
    private record Item(long bytes, Supplier<List<TensorData>> tensors) {
    }

    /**
     * Writes config.json, generation_config.json and the weights of {@code model} into {@code dir} (created if
     * needed) and returns the names of the files written, weights first.
     *
     * @param bosId,eosId the tokenizer's special ids, written to both config files (null: the model config's)
     */
    public static List<String> write(DeepSeekModel model, ExportDtype dtype, long maxShardBytes,
                                     Integer bosId, Integer eosId, Path dir) throws IOException {
        if (maxShardBytes < 1) {
            throw new IllegalArgumentException("max shard size must be >= 1 byte, got " + maxShardBytes);
        }
        Files.createDirectories(dir);
        List<Item> items = plan(model, dtype);
        List<List<Item>> shards = new ArrayList<>();
        long inShard = 0;
        for (Item it : items) {
            if (shards.isEmpty() || (inShard > 0 && inShard + it.bytes() > maxShardBytes)) {
                shards.add(new ArrayList<>());
                inShard = 0;
            }
            shards.get(shards.size() - 1).add(it);
            inShard += it.bytes();
        }
        List<String> files = new ArrayList<>();
        Map<String, String> weightMap = new LinkedHashMap<>();
        long total = 0;
        Map<String, String> meta = Map.of(PRODUCER_KEY, PRODUCER);
        for (int s = 0; s < shards.size(); s++) {
            String file = shards.size() == 1 ? HfModelDir.SINGLE
                    : String.format("model-%05d-of-%05d.safetensors", s + 1, shards.size());
            List<TensorData> tensors = new ArrayList<>();
            for (Item it : shards.get(s)) {
                tensors.addAll(it.tensors().get());
            }
            for (TensorData t : tensors) {
                weightMap.put(t.name(), file);
                total += t.data().length;
            }
            Safetensors.write(dir.resolve(file), tensors, meta);
            files.add(file);
        }
        if (shards.size() > 1) {
            Map<String, Object> index = new LinkedHashMap<>();
            index.put("metadata", Map.of("total_size", total));
            index.put("weight_map", weightMap);
            AtomicFiles.writeBytes(dir.resolve(HfModelDir.INDEX), JSON.writeValueAsBytes(index));
            files.add(HfModelDir.INDEX);
        }
        ModelConfig cfg = model.config();
        Integer bos = bosId != null ? bosId : cfg.bosTokenId();
        Integer eos = eosId != null ? eosId : cfg.eosTokenId();
        AtomicFiles.writeBytes(dir.resolve(HfModelDir.CONFIG), configJson(cfg, dtype, bos, eos));
        files.add(HfModelDir.CONFIG);
        Map<String, Object> gen = new LinkedHashMap<>();
        gen.put("bos_token_id", bos);
        gen.put("eos_token_id", eos);
        gen.put("do_sample", true);
        gen.put("temperature", GENERATION_TEMPERATURE);
        gen.put("top_p", GENERATION_TOP_P);
        AtomicFiles.writeBytes(dir.resolve(GENERATION_CONFIG), JSON.writeValueAsBytes(gen));
        files.add(GENERATION_CONFIG);
        return files;
    }

    /** config.json of an export: the model's HF keys restricted to {@link #CONFIG_KEYS}, plus dtype and quantization. */
    static byte[] configJson(ModelConfig cfg, ExportDtype dtype, Integer bos, Integer eos) throws IOException {
        Map<String, Object> all = JSON.readValue(cfg.toJson(), new TypeReference<LinkedHashMap<String, Object>>() { });
        Map<String, Object> out = new TreeMap<>();
        all.forEach((k, v) -> {
            if (CONFIG_KEYS.contains(k)) {
                out.put(k, v);
            }
        });
        out.put("bos_token_id", bos);
        out.put("eos_token_id", eos);
        out.put("torch_dtype", dtype.torchDtype());
        out.put("use_cache", true);
        if (dtype == ExportDtype.FP8) {
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("activation_scheme", "dynamic");
            q.put("fmt", "e4m3");
            q.put("quant_method", "fp8");
            q.put("weight_block_size", List.of(BlockQuantizer.BLOCK, BlockQuantizer.BLOCK));
            out.put("quantization_config", q);
        }
        return JSON.writeValueAsBytes(out);
    }

    /** The tensors of {@code model} in HF order as lazily built items, with their byte sizes. */
    private static List<Item> plan(DeepSeekModel model, ExportDtype dtype) {
        List<Item> items = new ArrayList<>();
        Map<String, float[]> biases = model.routerBiases();
        for (Param p : model.params()) {
            long[] shape = Arrays.stream(p.shape()).asLongStream().toArray();
            long numel = TensorData.numel(shape);
            String name = p.name();
            if (dtype == ExportDtype.FP8 && isQuantized(name)) {
                int rows = p.shape()[0];
                int cols = p.shape()[1];
                long[] scaleShape = {ceilDiv(rows, BlockQuantizer.BLOCK), ceilDiv(cols, BlockQuantizer.BLOCK)};
                items.add(new Item(numel + 4 * TensorData.numel(scaleShape), () -> {
                    QuantizedMatrix q = BlockQuantizer.quantize(p.w(), rows, cols);
                    return List.of(TensorData.f8e4m3(name, shape, q.codes()),
                            TensorData.f32(name + SCALE_SUFFIX, scaleShape, q.scales()));
                }));
            } else if (dtype == ExportDtype.FP32) {
                items.add(new Item(4 * numel, () -> List.of(TensorData.f32(name, shape, p.w()))));
            } else {
                items.add(new Item(2 * numel, () -> List.of(TensorData.bf16(name, shape, p.w()))));
            }
            if (name.endsWith(".mlp.gate.weight")) {
                String b = name.substring(0, name.length() - ".weight".length()) + ".e_score_correction_bias";
                float[] bias = biases.get(b);
                items.add(new Item(4L * bias.length,
                        () -> List.of(TensorData.f32(b, new long[]{bias.length}, bias))));
            }
        }
        return items;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
