package io.sparkseek.data.prep;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pack plan against the obvious construction: concatenate every document and cut the stream. */
class PackPlanTest {

    @Test
    void shardsEqualTheCutStreamForManyShapes() {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 200; trial++) {
            int docs = 1 + rnd.nextInt(30);
            int window = 2 + rnd.nextInt(20);
            int rowsPerShard = 1 + rnd.nextInt(5);
            long[] keys = new long[docs];
            int[] lengths = new int[docs];
            List<int[]> tokens = new ArrayList<>();
            long key = rnd.nextInt(5);
            List<Integer> stream = new ArrayList<>();
            for (int d = 0; d < docs; d++) {
                keys[d] = key;
                key += 1 + rnd.nextInt(1000);
                int len = 1 + rnd.nextInt(3 * window);
                lengths[d] = len;
                int[] t = new int[len];
                for (int i = 0; i < len; i++) {
                    t[i] = d * 10_000 + i;
                    stream.add(t[i]);
                }
                tokens.add(t);
            }
            PackPlan plan = PackPlan.of(keys, lengths, window, rowsPerShard);
            long windows = stream.size() / window;
            assertThat(plan.windows()).isEqualTo(windows);
            assertThat(plan.droppedTailTokens()).isEqualTo(stream.size() - windows * window);
            assertThat(plan.shards()).isEqualTo((int) ((windows + rowsPerShard - 1) / rowsPerShard));

            // fragments from documents in shuffled order, as tasks would produce them
            List<Integer> order = new ArrayList<>();
            for (int d = 0; d < docs; d++) {
                order.add(d);
            }
            Collections.shuffle(order, rnd);
            List<List<PackPlan.Fragment>> byShard = new ArrayList<>();
            for (int s = 0; s < plan.shards(); s++) {
                byShard.add(new ArrayList<>());
            }
            for (int d : order) {
                for (PackPlan.Fragment f : plan.fragments(keys[d], tokens.get(d))) {
                    byShard.get(f.shard()).add(f);
                }
            }
            int pos = 0;
            for (int s = 0; s < plan.shards(); s++) {
                Collections.shuffle(byShard.get(s), rnd);
                int[] rows = plan.assemble(s, byShard.get(s));
                assertThat(rows.length).isEqualTo(plan.rowsInShard(s) * window);
                for (int v : rows) {
                    assertThat(v).isEqualTo(stream.get(pos++));
                }
            }
            assertThat((long) pos).isEqualTo(windows * window);
        }
    }

    @Test
    void rejectsUnsortedKeysAndIncompleteShards() {
        assertThatThrownBy(() -> PackPlan.of(new long[]{3, 2}, new int[]{4, 4}, 4, 1))
                .hasMessageContaining("strictly ascending");
        PackPlan plan = PackPlan.of(new long[]{1, 2}, new int[]{4, 4}, 4, 2);
        List<PackPlan.Fragment> onlyFirst = plan.fragments(1, new int[]{1, 2, 3, 4});
        assertThatThrownBy(() -> plan.assemble(0, onlyFirst)).hasMessageContaining("expected 8");
        assertThatThrownBy(() -> plan.fragments(9, new int[]{1})).hasMessageContaining("not in the pack plan");
    }
}
