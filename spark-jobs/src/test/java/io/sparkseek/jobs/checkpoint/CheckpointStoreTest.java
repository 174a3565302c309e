package io.sparkseek.jobs.checkpoint;

import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;
import io.sparkseek.model.optim.AdamW;
import io.sparkseek.model.optim.AdamWConfig;
import io.sparkseek.model.optim.LrSchedule;
import io.sparkseek.model.train.LocalTrainer;
import io.sparkseek.model.train.SyntheticTokens;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Checkpoints through the Hadoop FileSystem API (here file:), committed last, with retention and exact reload. */
class CheckpointStoreTest {

    @TempDir
    Path tmp;

    private static ModelConfig tiny() throws Exception {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("conf/models/tiny.json"))) {
                return ModelConfig.read(p.resolve("conf/models/tiny.json"));
            }
        }
        throw new IllegalStateException("conf/models/tiny.json not found above the working directory");
    }

    @Test
    void savesCommitsKeepsTheNewestAndReloadsBitExactly() throws Exception {
        ModelConfig cfg = tiny();
        DeepSeekModel m = new DeepSeekModel(cfg, 0f);
        m.initialize(7);
        AdamW opt = new AdamW(m.params(), AdamWConfig.DEFAULT);
        LocalTrainer trainer = new LocalTrainer(m, opt, new LrSchedule(1e-3, 1e-4, 2, 10, true),
                LocalTrainer.Settings.DEFAULT);
        SyntheticTokens data = new SyntheticTokens(SyntheticTokens.Kind.PATTERN, cfg.vocabSize(), 16, 7);
        String run = tmp.resolve("run").toUri().toString();
        CheckpointStore store = new CheckpointStore(run, new Configuration());
        byte[] tok = "{\"tokenizer\": true}".getBytes(StandardCharsets.UTF_8);
        try (ComputePool pool = new ComputePool(1)) {
            for (int step = 1; step <= 4; step++) {
                trainer.step(pool, data.batch(step, 2, 16), 2, 16);
                store.save(step, m, opt, Map.of("stage", step), Map.of("tokenizer.json", tok), 2);
            }
        }
        assertThat(store.committed()).extracting(org.apache.hadoop.fs.Path::getName)
                .containsExactly("step-0000003", "step-0000004");
        assertThat(Files.readString(tmp.resolve("run/checkpoints/latest")).trim()).isEqualTo("step-0000004");
        try (var files = Files.list(tmp.resolve("run/checkpoints/step-0000004"))) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("_COMMITTED",
                    "config.json", "model.safetensors", "optimizer.safetensors", "tokenizer.json", "trainer_state.json");
        }

        DeepSeekModel back = new DeepSeekModel(cfg, 0f);
        AdamW backOpt = new AdamW(back.params(), AdamWConfig.DEFAULT);
        CheckpointStore.Loaded loaded = store.load(store.latest().orElseThrow(), back, backOpt, List.of("tokenizer.json"));
        assertThat(loaded.state().step()).isEqualTo(4);
        assertThat(((Number) loaded.state().values().get("stage")).intValue()).isEqualTo(4);
        assertThat(loaded.extraFiles().get("tokenizer.json")).isEqualTo(tok);
        for (Param p : m.params()) {
            assertThat(back.param(p.name()).w()).as(p.name()).containsExactly(p.w());
        }
        m.routerBiases().forEach((name, b) -> assertThat(back.routerBiases().get(name)).as(name).containsExactly(b));
        assertThat(backOpt.step()).isEqualTo(opt.step());
        opt.moments().forEach((name, v) -> assertThat(backOpt.moments().get(name)).as(name).containsExactly(v));
    }

    @Test
    void anUncommittedCheckpointIsNeverLoaded() throws Exception {
        ModelConfig cfg = tiny();
        DeepSeekModel m = new DeepSeekModel(cfg, 0f);
        m.initialize(1);
        AdamW opt = new AdamW(m.params(), AdamWConfig.DEFAULT);
        CheckpointStore store = new CheckpointStore(tmp.resolve("run").toString(), new Configuration());
        assertThat(store.latest()).isEmpty();
        org.apache.hadoop.fs.Path dir = store.save(5, m, opt, Map.of(), Map.of(), 3);
        Files.delete(tmp.resolve("run/checkpoints/step-0000005/_COMMITTED"));
        assertThatThrownBy(store::latest).hasMessageContaining("names step-0000005, which is not a committed checkpoint");
        assertThatThrownBy(() -> store.load(dir, m, opt, List.of())).hasMessageContaining("no _COMMITTED marker");
        assertThat(store.committed()).isEmpty();
    }
}
