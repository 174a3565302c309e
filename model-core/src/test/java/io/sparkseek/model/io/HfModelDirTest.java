package io.sparkseek.model.io;

import io.sparkseek.model.TestModels;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HfModelDirTest {

    @Test
    void roundTripsWeightsAndRoutingBiasesExactly(@TempDir Path dir) throws IOException {
        DeepSeekModel m = TestModels.randomModel(TestModels.micro(16), 0f, 4);
        HfModelDir.save(m, dir);
        DeepSeekModel back = HfModelDir.load(dir, 0f);
        assertThat(back.config()).isEqualTo(m.config());
        for (Param p : m.params()) {
            assertThat(back.param(p.name()).w()).as(p.name()).isEqualTo(p.w());
        }
        m.routerBiases().forEach((k, v) -> assertThat(back.routerBiases().get(k)).as(k).isEqualTo(v));
        try (SafetensorsFile f = Safetensors.open(dir.resolve(HfModelDir.SINGLE))) {
            assertThat(f.info("model.layers.1.mlp.gate.e_score_correction_bias").dtype()).isEqualTo(Dtype.F32);
            assertThat(f.names()).contains("model.layers.0.mlp.gate_proj.weight",
                    "model.layers.2.mlp.experts.7.down_proj.weight", "model.layers.2.mlp.shared_experts.up_proj.weight",
                    "model.layers.0.self_attn.q_a_proj.weight", "lm_head.weight", "model.norm.weight");
        }
    }

    @Test
    void readsShardedBf16Checkpoints(@TempDir Path dir) throws IOException {
        DeepSeekModel m = TestModels.randomModel(TestModels.micro(null), 0f, 5);
        List<TensorData> all = HfModelDir.tensors(m);
        List<TensorData> first = new ArrayList<>();
        List<TensorData> second = new ArrayList<>();
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (int i = 0; i < all.size(); i++) {
            TensorData t = all.get(i);
            TensorData bf = t.name().endsWith("e_score_correction_bias") ? t
                    : TensorData.bf16(t.name(), t.shape(), m.param(t.name()).w());
            (i % 2 == 0 ? first : second).add(bf);
            weightMap.put(t.name(), i % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
        }
        Safetensors.write(dir.resolve("model-00001-of-00002.safetensors"), first, Map.of());
        Safetensors.write(dir.resolve("model-00002-of-00002.safetensors"), second, Map.of());
        StringBuilder json = new StringBuilder("{\"metadata\":{},\"weight_map\":{");
        weightMap.forEach((k, v) -> json.append('"').append(k).append("\":\"").append(v).append("\","));
        json.setLength(json.length() - 1);
        json.append("}}");
        Files.writeString(dir.resolve(HfModelDir.INDEX), json);
        m.config().write(dir.resolve(HfModelDir.CONFIG));

        DeepSeekModel back = HfModelDir.load(dir, 0f);
        Param q = back.param("model.layers.0.self_attn.q_proj.weight");
        float[] want = m.param(q.name()).w();
        for (int i = 0; i < want.length; i++) {
            assertThat(q.w()[i]).isEqualTo(io.sparkseek.model.fp8.Bf16.round(want[i]));
        }
    }

    @Test
    void missingUnexpectedAndMisshapenTensorsAreClearErrors(@TempDir Path dir) throws IOException {
        ModelConfig cfg = TestModels.micro(16);
        DeepSeekModel m = TestModels.randomModel(cfg, 0f, 6);
        List<TensorData> all = HfModelDir.tensors(m);
        cfg.write(dir.resolve(HfModelDir.CONFIG));

        List<TensorData> missing = new ArrayList<>(all);
        missing.removeIf(t -> t.name().equals("model.layers.2.mlp.gate.e_score_correction_bias"));
        Safetensors.write(dir.resolve(HfModelDir.SINGLE), missing, Map.of());
        assertThatThrownBy(() -> HfModelDir.load(dir, 0f)).isInstanceOf(IOException.class)
                .hasMessageContaining("missing").hasMessageContaining("model.layers.2.mlp.gate.e_score_correction_bias");

        List<TensorData> extra = new ArrayList<>(all);
        extra.add(TensorData.f32("model.layers.1.self_attn.o_proj.weight_scale_inv", new long[]{1, 1}, new float[]{1}));
        Safetensors.write(dir.resolve(HfModelDir.SINGLE), extra, Map.of());
        assertThatThrownBy(() -> HfModelDir.load(dir, 0f)).hasMessageContaining("weight_scale_inv")
                .hasMessageContaining("FP8").hasMessageContaining("is F32");

        List<TensorData> misshapen = new ArrayList<>(all);
        misshapen.replaceAll(t -> t.name().equals("model.norm.weight")
                ? TensorData.f32(t.name(), new long[]{31}, new float[31]) : t);
        Safetensors.write(dir.resolve(HfModelDir.SINGLE), misshapen, Map.of());
        assertThatThrownBy(() -> HfModelDir.load(dir, 0f)).hasMessageContaining("model.norm.weight")
                .hasMessageContaining(Arrays.toString(new int[]{32}));
    }
}
