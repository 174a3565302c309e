package io.sparkseek.model.balance;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ExpertLoadTest {

    @Test
    void addsMergesAndClears() {
        ExpertLoad a = new ExpertLoad(2, 3);
        a.add(0, new int[] {1, 2, 3}, 3);
        a.add(0, new int[] {4, 0, 2}, 3);
        a.add(1, new int[] {2, 2, 2}, 3);
        ExpertLoad b = new ExpertLoad(2, 3);
        b.add(1, new int[] {0, 5, 1}, 3);
        a.merge(b);
        assertArrayEquals(new long[] {5, 2, 5}, a.counts(0));
        assertArrayEquals(new long[] {2, 7, 3}, a.counts(1));
        assertEquals(6, a.tokens(0));
        assertEquals(6, a.tokens(1));
        assertEquals(6, a.tokens());
        a.clear();
        assertArrayEquals(new long[3], a.counts(0));
        assertEquals(0, a.tokens(1));
    }

    @Test
    void rejectsMismatchedShapes() {
        ExpertLoad a = new ExpertLoad(2, 3);
        assertThrows(IllegalArgumentException.class, () -> a.merge(new ExpertLoad(2, 4)));
        assertThrows(IllegalArgumentException.class, () -> a.add(0, new int[2], 1));
    }
}
