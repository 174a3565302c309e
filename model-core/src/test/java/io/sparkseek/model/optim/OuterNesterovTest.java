package io.sparkseek.model.optim;

import io.sparkseek.model.layer.Param;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class OuterNesterovTest {

    private static Param param(float... w) {
        Param p = new Param("w", w.length);
        System.arraycopy(w, 0, p.w(), 0, w.length);
        return p;
    }

    /**
     * Two steps by hand, lr 0.7, μ 0.9, w = [1, 2]:
     * step 1, Δ = [−0.1, 0.2] → g = [0.1, −0.2], v = g, g + μv = [0.19, −0.38], w = [0.867, 2.266];
     * step 2, Δ = [−0.3, 0] → g = [0.3, 0], v = 0.9·[0.1, −0.2] + g = [0.39, −0.18],
     * g + μv = [0.651, −0.162], w = [0.867 − 0.4557, 2.266 + 0.1134] = [0.4113, 2.3794].
     */
    @Test
    void twoStepsMatchHandComputedNesterov() {
        Param p = param(1f, 2f);
        OuterNesterov opt = new OuterNesterov(List.of(p), 0.7, 0.9);
        opt.update(new float[][] {{-0.1f, 0.2f}});
        assertThat(p.w()[0]).isCloseTo(0.867f, within(1e-6f));
        assertThat(p.w()[1]).isCloseTo(2.266f, within(1e-6f));
        assertThat(opt.velocity().get("w" + OuterNesterov.VELOCITY)).containsExactly(new float[] {0.1f, -0.2f},
                within(1e-7f));
        opt.update(new float[][] {{-0.3f, 0f}});
        assertThat(p.w()[0]).isCloseTo(0.4113f, within(1e-6f));
        assertThat(p.w()[1]).isCloseTo(2.3794f, within(1e-6f));
        assertThat(opt.velocity().get("w" + OuterNesterov.VELOCITY)).containsExactly(new float[] {0.39f, -0.18f},
                within(1e-6f));
        assertThat(opt.step()).isEqualTo(2);
    }

    @Test
    void zeroMomentumUnitLrIsPlainAveraging() {
        Param p = param(1f, -3f);
        new OuterNesterov(List.of(p), 1.0, 0.0).update(new float[][] {{0.25f, 0.5f}});
        assertThat(p.w()).containsExactly(1.25f, -2.5f);
    }

    @Test
    void restoredVelocityContinuesBitIdentically() {
        Param a = param(1f, 2f);
        OuterNesterov straight = new OuterNesterov(List.of(a), 0.7, 0.9);
        straight.update(new float[][] {{0.01f, -0.02f}});
        Map<String, float[]> saved = straight.velocity();
        float[] w1 = a.w().clone();
        straight.update(new float[][] {{0.03f, 0.04f}});

        Param b = param(w1);
        OuterNesterov resumed = new OuterNesterov(List.of(b), 0.7, 0.9);
        resumed.restore(saved, 1);
        resumed.update(new float[][] {{0.03f, 0.04f}});
        assertThat(b.w()).containsExactly(a.w());
        assertThat(resumed.step()).isEqualTo(2);
    }

    @Test
    void badArgumentsAreNamed() {
        Param p = param(1f);
        assertThatThrownBy(() -> new OuterNesterov(List.of(p), 0.7, 1.0)).hasMessageContaining("momentum");
        assertThatThrownBy(() -> new OuterNesterov(List.of(p), 0.0, 0.9)).hasMessageContaining("learning rate");
        assertThatThrownBy(() -> new OuterNesterov(List.of(p), 0.7, 0.9).update(new float[][] {{1f, 2f}}))
                .hasMessageContaining("delta of w");
        assertThatThrownBy(() -> new OuterNesterov(List.of(p), 0.7, 0.9).restore(Map.of(), 0))
                .hasMessageContaining("w.outer_velocity");
    }
}
