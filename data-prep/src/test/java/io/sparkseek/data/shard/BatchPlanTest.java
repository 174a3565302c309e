package io.sparkseek.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BatchPlanTest {

    /** The first {@code steps} steps' rows, concatenated: the plan's stream of positions. */
    private static long[] stream(BatchPlan plan, long steps) {
        long[] all = new long[(int) (steps * plan.batchSize())];
        for (long g = 0; g < steps; g++) {
            System.arraycopy(plan.rows(g), 0, all, (int) (g * plan.batchSize()), plan.batchSize());
        }
        return all;
    }

    @ParameterizedTest
    @CsvSource({"10, 4", "12, 4", "7, 7", "1, 1", "1, 8", "3, 8", "5, 16", "100, 32", "1000, 96"})
    void everyRowAppearsExactlyOncePerEpoch(long n, int b) {
        BatchPlan plan = BatchPlan.of(7, n, b, 1);
        int epochs = 4;
        long steps = (epochs * n + b - 1) / b;
        long[] all = stream(plan, steps);
        for (int e = 0; e < epochs; e++) {
            long[] epoch = Arrays.copyOfRange(all, (int) (e * n), (int) ((e + 1) * n));
            Arrays.sort(epoch);
            assertThat(epoch).as("epoch %d of N=%d B=%d", e, n, b).isEqualTo(LongStream.range(0, n).toArray());
        }
    }

    @Test
    void aStepThatStraddlesTwoEpochsTakesTheTailOfOneAndTheHeadOfTheNext() {
        BatchPlan plan = BatchPlan.of(11, 10, 4, 2);
        int[] e0 = plan.permutation(0);
        int[] e1 = plan.permutation(1);
        // step 2 covers positions 8..11: 8, 9 of epoch 0 and 0, 1 of epoch 1
        assertThat(plan.rows(2)).containsExactly(e0[8], e0[9], e1[0], e1[1]);
        assertThat(plan.rows(2, 0)).containsExactly(e0[8], e0[9]);
        assertThat(plan.rows(2, 1)).containsExactly(e1[0], e1[1]);
        assertThat(plan.rows(0)).containsExactly(e0[0], e0[1], e0[2], e0[3]);
        assertThat(plan.rows(3)).containsExactly(e1[2], e1[3], e1[4], e1[5]);
        assertThat(plan.epochOf(1)).isZero();
        assertThat(plan.epochOf(2)).isZero();
        assertThat(plan.epochOf(3)).isEqualTo(1);
        assertThat(plan.epochOf(5)).isEqualTo(2); // positions 20..23
        assertThat(e0).isNotEqualTo(e1);
    }

    @Test
    void aBatchLargerThanTheSplitSpansSeveralEpochs() {
        BatchPlan plan = BatchPlan.of(3, 3, 8, 4);
        long[] step0 = plan.rows(0);
        long[] expected = new long[8];
        for (int p = 0; p < 8; p++) {
            expected[p] = plan.permutation(p / 3)[p % 3];
        }
        assertThat(step0).isEqualTo(expected);
        assertThat(plan.epochOf(0)).isZero();
        assertThat(plan.epochOf(1)).isEqualTo(2); // position 8
    }

    @ParameterizedTest
    @CsvSource({"10, 4", "12, 8", "3, 8", "1000, 64", "37, 16", "5, 4"})
    void theRowsOfAStepDoNotDependOnTheNumberOfReplicas(long n, int b) {
        BatchPlan one = BatchPlan.of(99, n, b, 1);
        for (int r : new int[] {2, 4}) {
            BatchPlan split = BatchPlan.of(99, n, b, r);
            for (long g = 0; g < 3 * n / b + 5; g++) {
                List<Long> joined = new ArrayList<>();
                for (int replica = 0; replica < r; replica++) {
                    long[] slice = split.rows(g, replica);
                    assertThat(slice).hasSize(b / r);
                    Arrays.stream(slice).forEach(joined::add);
                }
                assertThat(joined).as("step %d, R=%d", g, r)
                        .containsExactlyElementsOf(Arrays.stream(one.rows(g)).boxed().toList());
                assertThat(split.rows(g)).isEqualTo(one.rows(g));
                assertThat(split.epochOf(g)).isEqualTo(one.epochOf(g));
            }
        }
    }

    @Test
    void theSameInputsAlwaysGiveTheSameRowsWhateverOrderTheyAreAskedIn() {
        BatchPlan a = BatchPlan.of(1234, 1000, 32, 4);
        BatchPlan b = BatchPlan.of(1234, 1000, 32, 4);
        long[] forward = stream(a, 200);
        long[][] backward = new long[200][];
        for (int g = 199; g >= 0; g--) { // every step rebuilds another epoch's permutation
            backward[g] = b.rows(g);
        }
        for (int g = 0; g < 200; g++) {
            assertThat(backward[g]).isEqualTo(Arrays.copyOfRange(forward, g * 32, (g + 1) * 32));
        }
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    }

    @Test
    void differentSeedsAndEpochsGiveDifferentPermutations() {
        Set<List<Integer>> seen = new HashSet<>();
        for (long seed : new long[] {0, 1, 2, -1, 0x9E3779B97F4A7C15L}) {
            BatchPlan plan = BatchPlan.of(seed, 50, 10, 1);
            for (long e = 0; e < 4; e++) {
                assertThat(seen.add(Arrays.stream(plan.permutation(e)).boxed().toList()))
                        .as("seed %d epoch %d repeats an earlier permutation", seed, e).isTrue();
            }
        }
        assertThat(BatchPlan.of(1, 50, 10, 1).rows(0)).isNotEqualTo(BatchPlan.of(2, 50, 10, 1).rows(0));
    }

    /** The class comment's recipe, re-implemented here: a change of algorithm (which breaks resume) shows. */
    @Test
    void permutationIsTheDocumentedFisherYatesWithTheDocumentedEpochSeed() {
        long seed = 42;
        BatchPlan plan = BatchPlan.of(seed, 97, 8, 2);
        for (long e : new long[] {0, 1, 5, 1_000_000_007L}) {
            long epochSeed = mix(mix(seed) + 0x9E3779B97F4A7C15L * (e + 1));
            int[] order = new int[97];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            SplittableRandom random = new SplittableRandom(epochSeed);
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            assertThat(plan.permutation(e)).as("epoch %d", e).isEqualTo(order);
        }
        // pinned: these must never change, or runs resumed across versions would read other batches
        assertThat(BatchPlan.of(42, 10, 4, 1).rows(0)).containsExactly(PINNED_42_10_4_STEP0);
    }

    private static final long[] PINNED_42_10_4_STEP0 = {3, 1, 7, 2};

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Test
    void fiftyMillionRowsWork() {
        long n = 50_000_000L;
        BatchPlan plan = BatchPlan.of(5, n, 1024, 8);
        long[] rows = plan.rows(1_000_000); // position 1.024e9: epoch 20
        assertThat(plan.epochOf(1_000_000)).isEqualTo(20);
        assertThat(Arrays.stream(rows).distinct().count()).isEqualTo(1024);
        assertThat(Arrays.stream(rows).allMatch(r -> r >= 0 && r < n)).isTrue();
        assertThat(BatchPlan.of(5, n, 1024, 1).rows(1_000_000, 0)).isEqualTo(rows);
    }

    @Test
    void survivesJavaSerializationAndRebuildsItsCache() throws Exception {
        BatchPlan plan = BatchPlan.of(77, 1000, 64, 4);
        long[] before = plan.rows(40, 3);
        BatchPlan copy = Fixtures.javaRoundTrip(plan);
        assertThat(copy).isEqualTo(plan);
        assertThat(copy.rows(40, 3)).isEqualTo(before);
        assertThat(copy.rows(0)).isEqualTo(plan.rows(0));
        assertThat(copy.toString()).contains("seed=77", "trainRows=1000", "batchSize=64", "replicas=4");
    }

    @Test
    void rejectsInvalidArguments() {
        assertThatThrownBy(() -> BatchPlan.of(1, 0, 8, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0 rows");
        assertThatThrownBy(() -> BatchPlan.of(1, 10, 6, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("multiple of replicas 4").hasMessageContaining("sparkseek.train.batchSize");
        assertThatThrownBy(() -> BatchPlan.of(1, 10, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BatchPlan.of(1, 10, 8, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sparkseek.train.replicas");
        assertThatThrownBy(() -> BatchPlan.of(1, 1L << 31, 8, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Long.toString(1L << 31));
        BatchPlan plan = BatchPlan.of(1, 10, 8, 2);
        assertThatThrownBy(() -> plan.rows(0, 2)).hasMessageContaining("replica 2 is outside [0, 2)");
        assertThatThrownBy(() -> plan.rows(-1)).hasMessageContaining("global step -1");
        assertThatThrownBy(() -> plan.rows(Long.MAX_VALUE / 8)).hasMessageContaining("global step");
    }

}
