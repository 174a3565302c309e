package io.sparkseek.model.layer;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Spec §15.4: our interleaved-pair RoPE against HF's de-interleave + rotate-half, written out independently. */
class RopeTest {

    /** HF apply_rotary_pos_emb_interleave for one vector, in double: output in de-interleaved order. */
    private static double[] hfRotate(double[] x, int pos, double theta) {
        int d = x.length;
        int half = d / 2;
        double[] deint = new double[d];
        for (int i = 0; i < half; i++) {
            deint[i] = x[2 * i];
            deint[half + i] = x[2 * i + 1];
        }
        double[] out = new double[d];
        for (int j = 0; j < d; j++) {
            double freq = Math.pow(theta, -2.0 * (j % half) / d);
            double c = Math.cos(pos * freq);
            double s = Math.sin(pos * freq);
            double rotHalf = j < half ? -deint[j + half] : deint[j - half];
            out[j] = deint[j] * c + rotHalf * s;
        }
        return out;
    }

    @Test
    void matchesHfRotateHalfPermutedBySpecPermutation() {
        int d = 8;
        int pos = 5;
        double theta = 10000;
        int[] perm = {0, 2, 4, 6, 1, 3, 5, 7};
        Rope rope = new Rope(d, theta, 16);
        Random rnd = new Random(42);
        float[] q = new float[d];
        float[] k = new float[d];
        for (int i = 0; i < d; i++) {
            q[i] = (float) rnd.nextGaussian();
            k[i] = (float) rnd.nextGaussian();
        }
        double[] qd = new double[d];
        double[] kd = new double[d];
        for (int i = 0; i < d; i++) {
            qd[i] = q[i];
            kd[i] = k[i];
        }
        double[] hfQ = hfRotate(qd, pos, theta);
        double[] hfK = hfRotate(kd, pos, theta);
        float[] ourQ = q.clone();
        float[] ourK = k.clone();
        rope.rotate(ourQ, 0, pos);
        rope.rotate(ourK, 0, pos);
        double ourDot = 0;
        double hfDot = 0;
        for (int j = 0; j < d; j++) {
            // HF output = our output permuted by perm: hf[j] = ours[perm[j]]
            assertThat((double) ourQ[perm[j]]).isCloseTo(hfQ[j], within(1e-6));
            assertThat((double) ourK[perm[j]]).isCloseTo(hfK[j], within(1e-6));
            ourDot += (double) ourQ[j] * ourK[j];
            hfDot += hfQ[j] * hfK[j];
        }
        assertThat(ourDot).isCloseTo(hfDot, within(1e-5));
    }

    @Test
    void officialFormulaOnPairsAndPositionZeroIsIdentity() {
        Rope rope = new Rope(4, 10000, 8);
        float[] v = {1f, 2f, 3f, 4f};
        rope.rotate(v, 0, 0);
        assertThat(v).containsExactly(1f, 2f, 3f, 4f);
        // pair 0 at position 3 rotates by angle 3 (θ_0 = 1): a' = a cos − b sin, b' = a sin + b cos
        float[] w = {1f, 2f, 0f, 0f};
        rope.rotate(w, 0, 3);
        assertThat((double) w[0]).isCloseTo(Math.cos(3) - 2 * Math.sin(3), within(1e-6));
        assertThat((double) w[1]).isCloseTo(Math.sin(3) + 2 * Math.cos(3), within(1e-6));
    }

    @Test
    void backwardIsTheInverseRotation() {
        Rope rope = new Rope(6, 10000, 32);
        float[] v = {0.3f, -1.2f, 2.5f, 0.7f, -0.4f, 1.1f};
        float[] w = v.clone();
        rope.rotate(w, 0, 17);
        rope.rotateBack(w, 0, 17);
        for (int i = 0; i < v.length; i++) {
            assertThat(w[i]).isCloseTo(v[i], within(1e-6f));
        }
    }
}
