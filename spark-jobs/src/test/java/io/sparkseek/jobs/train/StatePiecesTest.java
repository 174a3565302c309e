package io.sparkseek.jobs.train;

import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.train.SyntheticTokens;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** ModelState and SyntheticRowSource without Spark. */
class StatePiecesTest {

    @SuppressWarnings("unchecked")
    private static <T> T roundTrip(T o) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (T) in.readObject();
        }
    }

    @Test
    void modelStateRoundTripsThroughSerializationBitExactly() throws Exception {
        DeepSeekModel a = new DeepSeekModel(SparkTrainTestBase.tiny(), 0f);
        a.initialize(11);
        a.routerBiases().values().iterator().next()[3] = 0.25f;
        ModelState state = roundTrip(ModelState.of(a));
        DeepSeekModel b = new DeepSeekModel(SparkTrainTestBase.tiny(), 0f);
        state.loadInto(b);
        assertThat(SparkTrainTestBase.bitIdentical(a, b)).isTrue();
        assertThat(state.parameters()).isEqualTo(a.params().stream().mapToLong(p -> p.size()).sum());
        // a snapshot: later changes to the model do not reach it
        a.param("lm_head.weight").w()[0] += 1f;
        assertThat(state.weights(a.params().size() - 1)[0]).isEqualTo(b.param("lm_head.weight").w()[0]);

        DeepSeekModel other = new DeepSeekModel(SparkTrainTestBase.tiny().toBuilder().numHiddenLayers(2).build(), 0f);
        assertThatThrownBy(() -> state.loadInto(other)).hasMessageContaining("another model config");
    }

    @Test
    void syntheticRowsAreTheGlobalBatchSplitInReplicaOrder() throws Exception {
        SyntheticRowSource src = new SyntheticRowSource(SyntheticTokens.Kind.PATTERN, 512, 48, 5);
        RowSource shipped = roundTrip(src);
        int seqLen = 16;
        int global = 8;
        for (long step : new long[] {0, 1, 37}) {
            int[] want = src.tokens().batch(step, global, seqLen);
            for (int replicas : new int[] {1, 2, 4, 8}) {
                int b = global / replicas;
                int[] got = new int[0];
                for (int r = 0; r < replicas; r++) {
                    int[] rows = shipped.rows(step, r, b, seqLen);
                    assertThat(rows).hasSize(b * (seqLen + 1));
                    got = concat(got, rows);
                }
                assertThat(got).as("step %d, %d replicas", step, replicas).containsExactly(want);
            }
        }
        SyntheticRowSource random = new SyntheticRowSource(SyntheticTokens.Kind.RANDOM, 512, 48, 5);
        assertThat(concat(random.rows(3, 0, 2, seqLen), random.rows(3, 1, 2, seqLen)))
                .containsExactly(random.tokens().batch(3, 4, seqLen));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
