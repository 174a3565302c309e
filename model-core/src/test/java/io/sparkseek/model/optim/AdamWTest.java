package io.sparkseek.model.optim;

import io.sparkseek.model.fp8.Bf16;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.Param;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class AdamWTest {

    /** Textbook AdamW with decoupled weight decay, in double, written from the formula. */
    private static double[] reference(double[] w0, double[][] grads, double[] lrs, double b1, double b2, double eps,
                                      double wd) {
        double[] w = w0.clone();
        double[] m = new double[w.length];
        double[] v = new double[w.length];
        for (int t = 1; t <= grads.length; t++) {
            double lr = lrs[t - 1];
            for (int i = 0; i < w.length; i++) {
                double g = grads[t - 1][i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mh = m[i] / (1 - Math.pow(b1, t));
                double vh = v[i] / (1 - Math.pow(b2, t));
                w[i] = w[i] - lr * wd * w[i] - lr * mh / (Math.sqrt(vh) + eps);
            }
        }
        return w;
    }

    @Test
    void matchesTextbookAdamWAndDecaysMatricesOnly() {
        Param matrix = new Param("m.weight", 3, 4);
        Param vector = new Param("norm.weight", 5);
        Random rnd = new Random(1);
        for (Param p : List.of(matrix, vector)) {
            for (int i = 0; i < p.size(); i++) {
                p.w()[i] = (float) rnd.nextGaussian();
            }
        }
        double[] m0 = toDouble(matrix.w());
        double[] v0 = toDouble(vector.w());
        int steps = 4;
        double[][] gm = new double[steps][matrix.size()];
        double[][] gv = new double[steps][vector.size()];
        double[] lrs = {1e-2, 2e-2, 1.5e-2, 5e-3};
        AdamW opt = new AdamW(List.of(matrix, vector), AdamWConfig.DEFAULT);
        try (ComputePool pool = ComputePool.serial()) {
            for (int s = 0; s < steps; s++) {
                for (int i = 0; i < matrix.size(); i++) {
                    matrix.g()[i] = (float) (rnd.nextGaussian() * 0.1);
                    gm[s][i] = matrix.g()[i];
                }
                for (int i = 0; i < vector.size(); i++) {
                    vector.g()[i] = (float) (rnd.nextGaussian() * 0.1);
                    gv[s][i] = vector.g()[i];
                }
                opt.update(pool, lrs[s]);
            }
        }
        double[] wantM = reference(m0, gm, lrs, 0.9, 0.95, 1e-8, 0.1);
        double[] wantV = reference(v0, gv, lrs, 0.9, 0.95, 1e-8, 0.0);
        for (int i = 0; i < wantM.length; i++) {
            assertThat((double) matrix.w()[i]).isCloseTo(wantM[i], within(1e-6));
        }
        for (int i = 0; i < wantV.length; i++) {
            assertThat((double) vector.w()[i]).isCloseTo(wantV[i], within(1e-6));
        }
        assertThat(opt.step()).isEqualTo(steps);
        // With decay the matrix must differ from what no-decay would give.
        double[] noDecay = reference(m0, gm, lrs, 0.9, 0.95, 1e-8, 0.0);
        assertThat(Math.abs(noDecay[0] - matrix.w()[0])).isGreaterThan(1e-5);
    }

    /**
     * The vectorised update equals the per-element FP32 formula bit for bit (vector lanes and scalar tails, FP32
     * and BF16 moments, split over two threads), so checkpoints resume exactly whatever the vector width.
     */
    @Test
    void vectorisedUpdateEqualsTheScalarFormulaBitForBit() {
        for (boolean bf16 : new boolean[]{false, true}) {
            int n = 40_009;   // several tasks and chunks, and a ragged tail
            Param p = new Param("big.weight", 1, n);
            Random rnd = new Random(bf16 ? 7 : 8);
            float[] w = new float[n];
            for (int i = 0; i < n; i++) {
                w[i] = (float) rnd.nextGaussian();
            }
            System.arraycopy(w, 0, p.w(), 0, n);
            float[] m = new float[n];
            float[] v = new float[n];
            AdamW opt = new AdamW(List.of(p), AdamWConfig.DEFAULT.withBf16Moments(bf16));
            try (ComputePool pool = new ComputePool(2)) {
                for (int step = 1; step <= 3; step++) {
                    for (int i = 0; i < n; i++) {
                        p.g()[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian() * 3));
                    }
                    double lr = 1e-3 * step;
                    opt.update(pool, lr);
                    float b1 = 0.9f;
                    float b2 = 0.95f;
                    float c1 = (float) (1.0 / (1.0 - Math.pow(0.9, step)));
                    float c2 = (float) (1.0 / (1.0 - Math.pow(0.95, step)));
                    float decay = (float) (lr * 0.1);
                    for (int i = 0; i < n; i++) {
                        float g = p.g()[i];
                        float mi = b1 * m[i] + (1 - b1) * g;
                        float vi = b2 * v[i] + (1 - b2) * g * g;
                        m[i] = bf16 ? Bf16.round(mi) : mi;
                        v[i] = bf16 ? Bf16.round(vi) : vi;
                        float upd = (mi * c1) / ((float) Math.sqrt(vi * c2) + 1e-8f);
                        w[i] = w[i] - decay * w[i] - (float) lr * upd;
                    }
                    assertThat(p.w()).as("bf16 %s step %d", bf16, step).containsExactly(w);
                }
            }
            assertThat(opt.moments().get("big.weight.exp_avg")).containsExactly(m);
            assertThat(opt.moments().get("big.weight.exp_avg_sq")).containsExactly(v);
        }
    }

    @Test
    void bf16MomentsAreStoredRoundedAndStayCloseToFp32() {
        Param a = new Param("a.weight", 8, 8);
        Param b = new Param("a.weight", 8, 8);
        Random rnd = new Random(2);
        for (int i = 0; i < a.size(); i++) {
            a.w()[i] = b.w()[i] = (float) rnd.nextGaussian();
        }
        AdamW fp32 = new AdamW(List.of(a), AdamWConfig.DEFAULT);
        AdamW bf16 = new AdamW(List.of(b), AdamWConfig.DEFAULT.withBf16Moments(true));
        try (ComputePool pool = ComputePool.serial()) {
            for (int s = 0; s < 5; s++) {
                for (int i = 0; i < a.size(); i++) {
                    a.g()[i] = b.g()[i] = (float) rnd.nextGaussian();
                }
                fp32.update(pool, 1e-3);
                bf16.update(pool, 1e-3);
            }
        }
        for (float m : bf16.moments().get("a.weight.exp_avg")) {
            assertThat(Bf16.round(m)).isEqualTo(m);   // exactly representable in BF16
        }
        for (int i = 0; i < a.size(); i++) {
            assertThat(b.w()[i]).isCloseTo(a.w()[i], within(1e-4f));
        }
        assertThat(b.w()).isNotEqualTo(a.w());
    }

    @Test
    void scheduleWarmsUpLinearlyThenFollowsTheCosine() {
        LrSchedule s = new LrSchedule(1.0, 0.1, 4, 14, true);
        assertThat(s.lr(0)).isCloseTo(0.25, within(1e-12));
        assertThat(s.lr(3)).isCloseTo(1.0, within(1e-12));
        assertThat(s.lr(4)).isCloseTo(1.0, within(1e-12));
        assertThat(s.lr(9)).isCloseTo(0.1 + 0.45 * (1 + Math.cos(Math.PI * 0.5)), within(1e-12));
        assertThat(s.lr(14)).isCloseTo(0.1, within(1e-12));
        assertThat(s.lr(100)).isCloseTo(0.1, within(1e-12));
        assertThat(new LrSchedule(1.0, 0.1, 0, 10, false).lr(7)).isEqualTo(1.0);
    }

    @Test
    void globalNormClippingScalesAllGradientsTogether() {
        Param a = new Param("a", 2);
        Param b = new Param("b", 1);
        a.g()[0] = 3;
        a.g()[1] = 0;
        b.g()[0] = 4;
        double norm = GradClip.clip(List.of(a, b), 1.0);
        assertThat(norm).isEqualTo(5.0);
        assertThat(a.g()[0]).isCloseTo(0.6f, within(1e-7f));
        assertThat(b.g()[0]).isCloseTo(0.8f, within(1e-7f));
        assertThat(GradClip.clip(List.of(a, b), 2.0)).isCloseTo(1.0, within(1e-6));
        assertThat(a.g()[0]).isCloseTo(0.6f, within(1e-7f));   // below the limit: untouched
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
