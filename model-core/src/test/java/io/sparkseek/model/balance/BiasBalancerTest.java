package io.sparkseek.model.balance;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BiasBalancerTest {

    @Test
    void movesEachBiasAgainstItsLoadBySignOnly() {
        // E = 4, K = 2, 6 tokens → mean load 3: overloaded −γ, underloaded +γ, exactly balanced unchanged
        float[] bias = {0.1f, 0.2f, -0.3f, 0f};
        new BiasBalancer(0.01f).update(bias, new long[] {5, 3, 1, 3}, 6, 2);
        assertArrayEquals(new float[] {0.1f - 0.01f, 0.2f, -0.3f + 0.01f, 0f}, bias);
    }

    @Test
    void fractionalMeanLoadHasNoBalancedExperts() {
        // 5 tokens · 2 / 4 experts = 2.5
        float[] bias = new float[4];
        new BiasBalancer(0.001f).update(bias, new long[] {3, 2, 3, 2}, 5, 2);
        assertArrayEquals(new float[] {-0.001f, 0.001f, -0.001f, 0.001f}, bias);
    }

    @Test
    void zeroGammaFreezesTheBias() {
        float[] bias = {0.5f, -0.5f};
        new BiasBalancer(0f).update(bias, new long[] {10, 0}, 5, 1);
        assertArrayEquals(new float[] {0.5f, -0.5f}, bias);
    }

    @Test
    void updatesEveryLayerFromAnExpertLoad() {
        ExpertLoad load = new ExpertLoad(2, 2);
        load.add(0, new int[] {3, 1}, 4);
        load.add(1, new int[] {2, 2}, 4);
        float[][] biases = new float[2][2];
        new BiasBalancer(0.5f).update(biases, load, 1);
        assertArrayEquals(new float[] {-0.5f, 0.5f}, biases[0]);
        assertArrayEquals(new float[] {0f, 0f}, biases[1]);
    }

    @Test
    void rejectsMismatchedShapes() {
        assertThrows(IllegalArgumentException.class,
                () -> new BiasBalancer(0.1f).update(new float[3], new long[4], 4, 1));
        assertThrows(IllegalArgumentException.class, () -> new BiasBalancer(-0.1f));
    }
}
