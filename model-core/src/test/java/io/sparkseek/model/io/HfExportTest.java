package io.sparkseek.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.model.TestModels;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * HF export (spec §9): FP8 bytes and scales against a brute-force OCP E4M3 reference, BF16 against bit-level RNE,
 * the quantized set against spec §9.3's list, sharding with an index, config.json keys, and the _SUCCESS rule.
 */
class HfExportTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double E4M3_MAX = 448.0;

    /** Dimensions above 128 so that weights span several 128×128 blocks with ragged edges. */
    private static ModelConfig blocky() {
        return ModelConfig.builder()
                .vocabSize(96).hiddenSize(136).intermediateSize(260).moeIntermediateSize(40)
                .numHiddenLayers(2).firstKDenseReplace(1)
                .numAttentionHeads(2).numKeyValueHeads(2)
                .qLoraRank(144).kvLoraRank(24).qkNopeHeadDim(16).qkRopeHeadDim(8).vHeadDim(16)
                .nRoutedExperts(4).nSharedExperts(1).numExpertsPerTok(2).nGroup(2).topkGroup(1)
                .routedScalingFactor(2.0).maxPositionEmbeddings(64)
                .putExtra("my_training_note", "not an HF key")
                .build();
    }

    /** OCP E4M3 value of a non-negative code from the format's formula (bias 7, 3 mantissa bits, no infinities). */
    private static double e4m3(int code) {
        int exp = (code >>> 3) & 0xF;
        int man = code & 7;
        return exp == 0 ? Math.pow(2, -6) * man / 8.0 : Math.pow(2, exp - 7) * (1 + man / 8.0);
    }

    /** Brute-force round to nearest even over all finite codes, saturating at 448 (spec §8.7). */
    private static int rneE4m3(float x) {
        int sign = x < 0 || (x == 0 && 1 / x < 0) ? 0x80 : 0;
        double a = Math.abs((double) x);
        if (a > E4M3_MAX) {
            return sign | 0x7E;
        }
        int best = 0;
        double bestD = Double.POSITIVE_INFINITY;
        for (int c = 0; c <= 0x7E; c++) {
            double d = Math.abs(e4m3(c) - a);
            if (d < bestD || (d == bestD && (c & 1) == 0)) {
                best = c;
                bestD = d;
            }
        }
        return sign | best;
    }

    /** Names spec §9.3 lists as FP8 in the official release, built from the model's own layer layout. */
    private static Set<String> officialFp8Names(ModelConfig cfg) {
        Set<String> out = new TreeSet<>();
        for (int l = 0; l < cfg.numHiddenLayers(); l++) {
            String a = "model.layers." + l + ".self_attn.";
            for (String p : new String[]{"q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj"}) {
                out.add(a + p + ".weight");
            }
            String m = "model.layers." + l + ".mlp.";
            List<String> owners = new ArrayList<>();
            if (l < cfg.firstKDenseReplace()) {
                owners.add(m);
            } else {
                owners.add(m + "shared_experts.");
                for (int e = 0; e < cfg.nRoutedExperts(); e++) {
                    owners.add(m + "experts." + e + ".");
                }
            }
            for (String o : owners) {
                for (String p : new String[]{"gate_proj", "up_proj", "down_proj"}) {
                    out.add(o + p + ".weight");
                }
            }
        }
        return out;
    }

    /** Writes the export and commits it with its _SUCCESS marker, as the publisher does. */
    private static List<String> export(DeepSeekModel m, ExportDtype dtype, long limit, Integer bos, Integer eos,
                                       Path dir) throws IOException {
        List<String> files = HfExport.write(m, dtype, limit, bos, eos, dir);
        Files.write(dir.resolve(ExportMarker.NAME),
                ExportMarker.toJson(ExportMarker.describe(dir, files), Map.of("dtype", dtype.cliName())));
        return files;
    }

    private static float[] f32(byte[] data) {
        float[] out = new float[data.length / 4];
        ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    @Test
    void fp8BytesAreRneE4m3OfWeightOverBlockScaleForExactlyTheOfficialSet(@TempDir Path dir) throws IOException {
        ModelConfig cfg = blocky();
        DeepSeekModel m = TestModels.randomModel(cfg, 0f, 11);
        List<String> files = export(m, ExportDtype.FP8, HfExport.DEFAULT_MAX_SHARD_BYTES, null, null, dir);
        assertThat(files).containsExactly(HfModelDir.SINGLE, HfModelDir.CONFIG, HfExport.GENERATION_CONFIG);

        Set<String> fp8 = new TreeSet<>();
        int blocksChecked = 0;
        try (SafetensorsFile f = Safetensors.open(dir.resolve(HfModelDir.SINGLE))) {
            assertThat(f.metadata()).containsEntry("format", "pt").containsEntry("producer", "sparkseek-export");
            for (Param p : m.params()) {
                TensorInfo info = f.info(p.name());
                if (info.dtype() == Dtype.F8_E4M3) {
                    fp8.add(p.name());
                    int rows = p.shape()[0];
                    int cols = p.shape()[1];
                    int sr = (rows + 127) / 128;
                    int sc = (cols + 127) / 128;
                    TensorInfo si = f.info(p.name() + "_scale_inv");
                    assertThat(si.dtype()).isEqualTo(Dtype.F32);
                    assertThat(si.shape()).containsExactly(sr, sc);
                    float[] scales = f32(f.getBytes(p.name() + "_scale_inv"));
                    byte[] codes = f.getBytes(p.name());
                    float[] w = p.w();
                    for (int br = 0; br < sr; br++) {
                        for (int bc = 0; bc < sc; bc++) {
                            float amax = 0;
                            for (int r = br * 128; r < Math.min(rows, br * 128 + 128); r++) {
                                for (int c = bc * 128; c < Math.min(cols, bc * 128 + 128); c++) {
                                    amax = Math.max(amax, Math.abs(w[r * cols + c]));
                                }
                            }
                            float s = Math.max(amax, 1e-4f) / 448f;
                            assertThat(scales[br * sc + bc]).as("%s block (%d,%d)", p.name(), br, bc).isEqualTo(s);
                            for (int r = br * 128; r < Math.min(rows, br * 128 + 128); r++) {
                                for (int c = bc * 128; c < Math.min(cols, bc * 128 + 128); c++) {
                                    int i = r * cols + c;
                                    assertThat(codes[i] & 0xFF).as("%s[%d,%d]", p.name(), r, c)
                                            .isEqualTo(rneE4m3(w[i] / s));
                                }
                            }
                            blocksChecked++;
                        }
                    }
                } else {
                    assertThat(info.dtype()).as(p.name()).isEqualTo(Dtype.BF16);
                    assertThat(f.contains(p.name() + "_scale_inv")).isFalse();
                }
            }
            for (String b : m.routerBiases().keySet()) {
                assertThat(f.info(b).dtype()).as(b).isEqualTo(Dtype.F32);
            }
        }
        assertThat(fp8).isEqualTo(officialFp8Names(cfg));
        assertThat(blocksChecked).as("several blocks, ragged edges included").isGreaterThan(fp8.size());

        // Loading dequantizes each weight as code value x scale_inv of its block.
        DeepSeekModel back = HfModelDir.load(dir, 0f);
        try (SafetensorsFile f = Safetensors.open(dir.resolve(HfModelDir.SINGLE))) {
            for (String name : fp8) {
                int cols = back.param(name).shape()[1];
                int sc = (cols + 127) / 128;
                float[] scales = f32(f.getBytes(name + "_scale_inv"));
                byte[] codes = f.getBytes(name);
                float[] got = back.param(name).w();
                for (int i = 0; i < got.length; i++) {
                    int code = codes[i] & 0xFF;
                    double v = ((code & 0x80) != 0 ? -1 : 1) * e4m3(code & 0x7F);
                    float want = (float) v * scales[(i / cols / 128) * sc + (i % cols) / 128];
                    assertThat(got[i]).as("%s[%d]", name, i).isEqualTo(want);
                }
            }
        }
        assertThat(back.routerBiases()).allSatisfy((k, v) -> assertThat(v).containsExactly(m.routerBiases().get(k)));

        JsonNode config = JSON.readTree(dir.resolve(HfModelDir.CONFIG).toFile());
        assertThat(config.get("quantization_config").toString())
                .isEqualTo("{\"activation_scheme\":\"dynamic\",\"fmt\":\"e4m3\",\"quant_method\":\"fp8\","
                        + "\"weight_block_size\":[128,128]}");
        assertThat(config.get("torch_dtype").asText()).isEqualTo("bfloat16");
    }

    @Test
    void bf16IsRoundToNearestEvenAndFp32IsExact(@TempDir Path dir) throws IOException {
        ModelConfig cfg = TestModels.micro(16);
        DeepSeekModel m = TestModels.randomModel(cfg, 0f, 3);
        Path bf = dir.resolve("bf16");
        export(m, ExportDtype.BF16, HfExport.DEFAULT_MAX_SHARD_BYTES, null, null, bf);
        DeepSeekModel back = HfModelDir.load(bf, 0f);
        for (Param p : m.params()) {
            float[] w = p.w();
            float[] got = back.param(p.name()).w();
            for (int i = 0; i < w.length; i++) {
                int bits = Float.floatToRawIntBits(w[i]);
                int rounded = (bits + 0x7FFF + ((bits >>> 16) & 1)) & 0xFFFF0000;
                assertThat(Float.floatToRawIntBits(got[i])).as("%s[%d]", p.name(), i).isEqualTo(rounded);
            }
        }
        assertThat(back.routerBiases()).allSatisfy((k, v) -> assertThat(v).containsExactly(m.routerBiases().get(k)));
        assertThat(JSON.readTree(bf.resolve(HfModelDir.CONFIG).toFile()).get("torch_dtype").asText())
                .isEqualTo("bfloat16");

        Path fp = dir.resolve("fp32");
        export(m, ExportDtype.FP32, HfExport.DEFAULT_MAX_SHARD_BYTES, null, null, fp);
        DeepSeekModel exact = HfModelDir.load(fp, 0f);
        for (Param p : m.params()) {
            assertThat(exact.param(p.name()).w()).as(p.name()).containsExactly(p.w());
        }
        int[] rows = TestModels.randomRows(cfg.vocabSize(), 2, 16, 5);
        try (ComputePool pool = ComputePool.serial()) {
            assertThat(exact.forward(pool, rows, 2, 16)).isEqualTo(m.forward(pool, rows, 2, 16));
        }
    }

    @Test
    void shardsAboveTheSizeLimitWithAnIndexThatCoversEveryTensor(@TempDir Path dir) throws IOException {
        ModelConfig cfg = TestModels.micro(16);
        DeepSeekModel m = TestModels.randomModel(cfg, 0f, 4);
        long limit = 40_000;
        List<String> files = export(m, ExportDtype.FP32, limit, 7, 9, dir);
        List<String> shards = files.stream().filter(n -> n.startsWith("model-")).toList();
        assertThat(shards.size()).isGreaterThan(2);
        for (int i = 0; i < shards.size(); i++) {
            assertThat(shards.get(i)).isEqualTo(String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size()));
        }
        assertThat(dir.resolve(HfModelDir.SINGLE)).doesNotExist();
        JsonNode index = JSON.readTree(dir.resolve(HfModelDir.INDEX).toFile());
        long total = 0;
        Set<String> names = new HashSet<>();
        for (String s : shards) {
            try (SafetensorsFile f = Safetensors.open(dir.resolve(s))) {
                long inFile = 0;
                for (String n : f.names()) {
                    assertThat(index.get("weight_map").get(n).asText()).isEqualTo(s);
                    inFile += f.info(n).byteSize();
                    names.add(n);
                }
                total += inFile;
                // One tensor alone may exceed the limit; otherwise a shard stays within it.
                assertThat(inFile <= limit || f.names().size() == 1).as(s + " is " + inFile + " bytes").isTrue();
            }
        }
        assertThat(index.get("metadata").get("total_size").asLong()).isEqualTo(total);
        Iterator<String> it = index.get("weight_map").fieldNames();
        int mapped = 0;
        while (it.hasNext()) {
            assertThat(names).contains(it.next());
            mapped++;
        }
        assertThat(mapped).isEqualTo(names.size()).isEqualTo(m.params().size() + m.routerBiases().size());
        DeepSeekModel back = HfModelDir.load(dir, 0f);
        for (Param p : m.params()) {
            assertThat(back.param(p.name()).w()).containsExactly(p.w());
        }
        JsonNode gen = JSON.readTree(dir.resolve(HfExport.GENERATION_CONFIG).toFile());
        assertThat(gen.get("bos_token_id").asInt()).isEqualTo(7);
        assertThat(gen.get("eos_token_id").asInt()).isEqualTo(9);
        JsonNode config = JSON.readTree(dir.resolve(HfModelDir.CONFIG).toFile());
        assertThat(config.get("bos_token_id").asInt()).isEqualTo(7);
        assertThat(config.get("eos_token_id").asInt()).isEqualTo(9);
    }

    @Test
    void configHasOnlyDeepseekV3ConfigKeys(@TempDir Path dir) throws IOException {
        export(TestModels.randomModel(blocky(), 0f, 1), ExportDtype.BF16, HfExport.DEFAULT_MAX_SHARD_BYTES,
                null, null, dir);
        JsonNode config = JSON.readTree(dir.resolve(HfModelDir.CONFIG).toFile());
        // DeepseekV3Config.__init__'s arguments (transformers, configuration_deepseek_v3.py), the legacy RoPE keys it
        // converts, the generic PretrainedConfig keys, and the routing keys of DeepSeek's own config.json.
        Set<String> valid = Set.of("vocab_size", "hidden_size", "intermediate_size", "moe_intermediate_size",
                "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "n_shared_experts",
                "n_routed_experts", "routed_scaling_factor", "kv_lora_rank", "q_lora_rank", "qk_rope_head_dim",
                "v_head_dim", "qk_nope_head_dim", "n_group", "topk_group", "num_experts_per_tok",
                "first_k_dense_replace", "norm_topk_prob", "hidden_act", "max_position_embeddings",
                "initializer_range", "rms_norm_eps", "use_cache", "pad_token_id", "bos_token_id", "eos_token_id",
                "pretraining_tp", "tie_word_embeddings", "rope_parameters", "rope_interleave", "attention_bias",
                "attention_dropout", "rope_theta", "rope_scaling", "architectures", "model_type", "torch_dtype",
                "scoring_func", "topk_method", "num_nextn_predict_layers");
        Set<String> keys = new TreeSet<>();
        config.fieldNames().forEachRemaining(keys::add);
        assertThat(valid).containsAll(keys);
        assertThat(keys).doesNotContain("my_training_note", "quantization_config");
        assertThat(config.get("model_type").asText()).isEqualTo("deepseek_v3");
        assertThat(config.get("architectures").get(0).asText()).isEqualTo("DeepseekV3ForCausalLM");
        // It reads back as the same model shape.
        ModelConfig back = ModelConfig.read(dir.resolve(HfModelDir.CONFIG));
        assertThat(back.hiddenSize()).isEqualTo(136);
        assertThat(back.qLoraRank()).isEqualTo(144);
    }

    @Test
    void anExportWithoutSuccessIsRefusedAndAMarkerWithWrongSizesToo(@TempDir Path dir) throws IOException {
        DeepSeekModel m = TestModels.randomModel(TestModels.micro(16), 0f, 2);
        List<String> files = HfExport.write(m, ExportDtype.BF16, HfExport.DEFAULT_MAX_SHARD_BYTES, null, null, dir);
        assertThatThrownBy(() -> HfModelDir.load(dir, 0f)).isInstanceOf(IOException.class)
                .hasMessageContaining("incomplete export").hasMessageContaining("_SUCCESS");

        Files.write(dir.resolve(ExportMarker.NAME),
                ExportMarker.toJson(ExportMarker.describe(dir, files), Map.of("dtype", "bf16")));
        assertThat(HfModelDir.load(dir, 0f).param("model.norm.weight").w()).hasSize(32);

        Path single = dir.resolve(HfModelDir.SINGLE);
        byte[] bytes = Files.readAllBytes(single);
        Files.write(single, java.util.Arrays.copyOf(bytes, bytes.length + 8));
        assertThatThrownBy(() -> HfModelDir.load(dir, 0f)).hasMessageContaining("model.safetensors")
                .hasMessageContaining((bytes.length + 8) + " bytes").hasMessageContaining("re-run the export");

        // A foreign HF directory (no export metadata) needs no marker.
        Path foreign = dir.resolve("foreign");
        HfModelDir.save(m, foreign);
        assertThat(HfModelDir.load(foreign, 0f).param("model.norm.weight").w())
                .containsExactly(m.param("model.norm.weight").w());
    }
}
