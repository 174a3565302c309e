package io.sparkseek.model.balance;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MaxVioTest {

    @Test
    void maxLoadOverMeanLoad() {
        // mean = 6 · 2 / 4 = 3, max = 5 → (5 − 3) / 3
        assertEquals(2.0 / 3.0, MaxVio.of(new long[] {5, 3, 1, 3}, 6, 2), 1e-15);
        assertEquals(0.0, MaxVio.of(new long[] {3, 3, 3, 3}, 6, 2), 0.0);
        // all on one expert of 8 with K = 1: (100 − 12.5) / 12.5 = 7
        assertEquals(7.0, MaxVio.of(new long[] {100, 0, 0, 0, 0, 0, 0, 0}, 100, 1), 1e-15);
        assertEquals(0.0, MaxVio.of(new long[] {0, 0}, 0, 1), 0.0);
    }

    @Test
    void meanOverLayers() {
        ExpertLoad load = new ExpertLoad(2, 4);
        load.add(0, new int[] {5, 3, 1, 3}, 6);   // 2/3
        load.add(1, new int[] {4, 4, 2, 2}, 6);   // (4 − 3)/3 = 1/3
        assertEquals(0.5, MaxVio.meanOverLayers(load, 2), 1e-15);
    }
}
