package io.sparkseek.model.train;

import io.sparkseek.model.TestModels;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.io.TrainerCheckpoint;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;
import io.sparkseek.model.optim.AdamW;
import io.sparkseek.model.optim.AdamWConfig;
import io.sparkseek.model.optim.LrSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LocalTrainerTest {
    private static final int BATCH = 2;
    private static final int SEQ = 16;

    private static LocalTrainer trainer(ModelConfig cfg, boolean bf16, long seed, long totalSteps) {
        DeepSeekModel m = new DeepSeekModel(cfg, 1e-4f);
        m.initialize(seed);
        AdamW opt = new AdamW(m.params(), AdamWConfig.DEFAULT.withBf16Moments(bf16));
        return new LocalTrainer(m, opt, new LrSchedule(3e-3, 3e-4, 5, totalSteps, true),
                new LocalTrainer.Settings(1.0, 1e-3f));
    }

    @Test
    void tinyModelMemorisesARepeatingStream() {
        ModelConfig cfg = TestModels.micro(16);
        LocalTrainer t = trainer(cfg, false, 1, 250);
        SyntheticTokens data = new SyntheticTokens(SyntheticTokens.Kind.PATTERN, cfg.vocabSize(), 24, 9);
        double first = 0;
        double last = 0;
        try (ComputePool pool = new ComputePool(2)) {
            for (int s = 0; s < 250; s++) {
                LocalTrainer.StepResult r = t.step(pool, data.batch(s, 4, 32), 4, 32);
                if (s == 0) {
                    first = r.crossEntropy();
                }
                last = r.crossEntropy();
            }
        }
        assertThat(first).isGreaterThan(3.5);   // ≈ ln 64 at the start
        assertThat(last).isLessThan(0.05);      // memorised
    }

    @Test
    void resumeFromCheckpointIsBitExact(@TempDir Path run) throws IOException {
        for (boolean bf16 : new boolean[]{false, true}) {
            Path dir = run.resolve(bf16 ? "bf16" : "fp32");
            ModelConfig cfg = TestModels.micro(null);
            SyntheticTokens data = new SyntheticTokens(SyntheticTokens.Kind.RANDOM, cfg.vocabSize(), 1, 3);
            LocalTrainer straight = trainer(cfg, bf16, 7, 8);
            LocalTrainer first = trainer(cfg, bf16, 7, 8);
            try (ComputePool pool = new ComputePool(2)) {
                for (int s = 0; s < 8; s++) {
                    straight.step(pool, data.batch(s, BATCH, SEQ), BATCH, SEQ);
                }
                for (int s = 0; s < 4; s++) {
                    first.step(pool, data.batch(s, BATCH, SEQ), BATCH, SEQ);
                }
                TrainerCheckpoint.save(dir, 4, first.model(), first.optimizer(), Map.of("seed", 7), 2);

                LocalTrainer resumed = trainer(cfg, bf16, 99, 8);   // different init: everything must come from disk
                TrainerCheckpoint.State st = TrainerCheckpoint.load(dir, resumed.model(), resumed.optimizer());
                assertThat(st.step()).isEqualTo(4);
                for (long s = st.step(); s < 8; s++) {
                    resumed.step(pool, data.batch(s, BATCH, SEQ), BATCH, SEQ);
                }
                assertSameBits(straight, resumed);
            }
        }
    }

    private static void assertSameBits(LocalTrainer a, LocalTrainer b) {
        for (int i = 0; i < a.model().params().size(); i++) {
            Param pa = a.model().params().get(i);
            Param pb = b.model().params().get(i);
            assertThat(pb.w()).as(pa.name()).isEqualTo(pa.w());
        }
        a.model().routerBiases().forEach((name, bias) ->
                assertThat(b.model().routerBiases().get(name)).as(name).isEqualTo(bias));
        Map<String, float[]> ma = a.optimizer().moments();
        Map<String, float[]> mb = b.optimizer().moments();
        ma.forEach((name, v) -> assertThat(mb.get(name)).as(name).isEqualTo(v));
        assertThat(b.optimizer().step()).isEqualTo(a.optimizer().step());
    }

    @Test
    void retentionKeepsTheNewestAndUncommittedCheckpointsAreRefused(@TempDir Path run) throws IOException {
        ModelConfig cfg = TestModels.micro(16);
        LocalTrainer t = trainer(cfg, false, 1, 10);
        for (int s = 1; s <= 4; s++) {
            TrainerCheckpoint.save(run, s, t.model(), t.optimizer(), Map.of(), 2);
        }
        Path root = TrainerCheckpoint.checkpointsDir(run);
        assertThat(TrainerCheckpoint.committed(root)).extracting(p -> p.getFileName().toString())
                .containsExactly("step-0000003", "step-0000004");
        assertThat(TrainerCheckpoint.resolve(run).getFileName().toString()).isEqualTo("step-0000004");

        Path broken = root.resolve("step-0000004");
        Files.delete(broken.resolve(TrainerCheckpoint.COMMITTED));
        assertThatThrownBy(() -> TrainerCheckpoint.resolve(run))
                .hasMessageContaining("step-0000004").hasMessageContaining("_COMMITTED");
        assertThatThrownBy(() -> TrainerCheckpoint.resolve(broken))
                .hasMessageContaining("not completely written");
    }

    @Test
    void truncatedWeightsGiveAClearError(@TempDir Path run) throws IOException {
        ModelConfig cfg = TestModels.micro(16);
        LocalTrainer t = trainer(cfg, false, 1, 10);
        Path dir = TrainerCheckpoint.save(run, 1, t.model(), t.optimizer(), Map.of(), 0);
        Path weights = dir.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(all, all.length - 100));
        LocalTrainer other = trainer(cfg, false, 2, 10);
        assertThatThrownBy(() -> TrainerCheckpoint.load(run, other.model(), other.optimizer()))
                .isInstanceOf(IOException.class).hasMessageContaining("model.safetensors");
    }

    @Test
    void stepResultsDoNotDependOnTheThreadCount() {
        ModelConfig cfg = TestModels.micro(16);
        SyntheticTokens data = new SyntheticTokens(SyntheticTokens.Kind.RANDOM, cfg.vocabSize(), 1, 5);
        LocalTrainer one = trainer(cfg, true, 3, 6);
        LocalTrainer three = trainer(cfg, true, 3, 6);
        try (ComputePool p1 = new ComputePool(1); ComputePool p3 = new ComputePool(3)) {
            for (int s = 0; s < 3; s++) {
                LocalTrainer.StepResult a = one.step(p1, data.batch(s, BATCH, SEQ), BATCH, SEQ);
                LocalTrainer.StepResult b = three.step(p3, data.batch(s, BATCH, SEQ), BATCH, SEQ);
                assertThat(b.loss()).isEqualTo(a.loss());
                assertThat(b.gradNorm()).isEqualTo(a.gradNorm());
            }
        }
        assertSameBits(one, three);
    }
}
