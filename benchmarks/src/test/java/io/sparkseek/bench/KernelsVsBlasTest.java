package io.sparkseek.bench;

import io.sparkseek.model.config.ModelConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link KernelsVsBlas}: the cases are the small config's GEMMs (lm_head included) and the median is right. */
class KernelsVsBlasTest {

    private static ModelConfig small() throws IOException {
        return ModelConfig.read(Path.of("..", "conf", "models", "small.json"));
    }

    @Test
    void casesAreTheBenchmarkedLinearsPlusLmHeadWithThreeOpsEach() throws IOException {
        List<KernelsVsBlas.Case> cases = KernelsVsBlas.cases(small(), 2048, List.of());
        assertThat(cases).hasSize(10 * 3);
        KernelsVsBlas.Case head = cases.get(cases.size() - 3);
        assertThat(head.linear().name()).isEqualTo("lm_head");
        assertThat(head.mnk()).containsExactly(2048, 8192, 256);               // fprop T x vocab x hidden
        assertThat(cases.get(cases.size() - 1).mnk()).containsExactly(8192, 256, 2048);   // wgrad
        KernelsVsBlas.Case expertDgrad = KernelsVsBlas.cases(small(), 2048, List.of("expert_down")).get(1);
        assertThat(expertDgrad.mnk()).containsExactly(512, 128, 256);          // 2048*4/16 tokens, in 128, out 256
        assertThat(expertDgrad.json()).isEqualTo("{\"shape\": \"expert_down\", \"op\": \"dgrad\", \"m\": 512, "
                + "\"n\": 128, \"k\": 256, \"per_step\": 48}");
    }

    @Test
    void unknownShapeNamesTheChoices() {
        assertThatThrownBy(() -> KernelsVsBlas.cases(small(), 2048, List.of("nope")))
                .hasMessageContaining("nope").hasMessageContaining("lm_head");
    }

    @Test
    void median() {
        assertThat(KernelsVsBlas.median(new double[] {5, 1, 3})).isEqualTo(3);
        assertThat(KernelsVsBlas.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
    }
}
