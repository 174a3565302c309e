package io.sparkseek.model.kernel;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class VecMathTest {

    @Test
    void expIsAccurateAgainstMathExpOverTheFloatRange() {
        Random rnd = new Random(3);
        int n = 100_003;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextDouble() * 170 - 86);
        }
        x[0] = 0f;
        x[1] = -87f;
        x[2] = 88f;
        float[] y = new float[n];
        VecMath.expShifted(x, 0, y, 0, n, 0f);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double want = Math.exp(x[i]);
            worst = Math.max(worst, Math.abs(y[i] - want) / want);
            assertThat(y[i]).isEqualTo(VecMath.exp(x[i]));   // vector body and scalar tail agree bit for bit
        }
        assertThat(worst).isLessThan(3e-7);
        assertThat(y[0]).isEqualTo(1f);
    }

    @Test
    void shiftedSumAndMaxMatchPlainLoops() {
        float[] x = {3f, -1f, 2.5f, 0f, 7f, -4f, 1f, 2f, 6.5f, -0.5f, 4f};
        float m = VecMath.max(x, 1, 9);
        assertThat(m).isEqualTo(7f);
        float[] y = new float[x.length];
        float sum = VecMath.expShifted(x, 1, y, 0, 9, m);
        double want = 0;
        for (int i = 1; i < 10; i++) {
            want += Math.exp(x[i] - 7.0);
        }
        assertThat((double) sum).isCloseTo(want, org.assertj.core.api.Assertions.within(1e-6));
        assertThat((double) y[3]).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-7));   // x[4] = 7 - 7
    }
}
