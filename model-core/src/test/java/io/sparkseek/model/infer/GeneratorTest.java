package io.sparkseek.model.infer;

import io.sparkseek.model.TestModels;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Stop conditions and length limits of {@link Generator}. */
class GeneratorTest {

    /** A decoder whose greedy next token is (last token + 1) mod V; counts its calls. */
    static final class Counting implements TokenDecoder {
        final int vocab;
        final int maxPos;
        final List<Integer> fed = new ArrayList<>();

        Counting(int vocab, int maxPos) {
            this.vocab = vocab;
            this.maxPos = maxPos;
        }

        @Override
        public float[] append(ComputePool pool, int[] tokens) {
            for (int t : tokens) {
                fed.add(t);
            }
            assertThat(fed.size()).as("never beyond max positions").isLessThanOrEqualTo(maxPos);
            float[] l = new float[vocab];
            l[(tokens[tokens.length - 1] + 1) % vocab] = 10f;
            return l;
        }

        @Override
        public int length() {
            return fed.size();
        }

        @Override
        public int maxPositions() {
            return maxPos;
        }

        @Override
        public int vocabSize() {
            return vocab;
        }

        @Override
        public void reset() {
            fed.clear();
        }
    }

    private static Generator.Result greedy(TokenDecoder d, int eos, int[] prompt, int max, List<Integer> seen) {
        try (ComputePool pool = ComputePool.serial()) {
            return new Generator(d, eos).generate(pool, prompt, max, new Sampler(SamplingParams.GREEDY), seen::add);
        }
    }

    @Test
    void stopsAtEosWithoutEmittingIt() {
        Counting d = new Counting(10, 100);
        List<Integer> seen = new ArrayList<>();
        Generator.Result r = greedy(d, 7, new int[] {2, 3}, 50, seen);
        assertThat(r.tokens()).containsExactly(4, 5, 6);
        assertThat(seen).containsExactly(4, 5, 6);
        assertThat(r.stop()).isEqualTo(Generator.StopReason.EOS);
        assertThat(r.promptTokens()).isEqualTo(2);
        assertThat(d.fed).as("prompt, then every emitted token").containsExactly(2, 3, 4, 5, 6);
        assertThat(r.decodeSteps()).isEqualTo(3);
    }

    @Test
    void stopsAtMaxNewTokensWithoutFeedingTheLastOne() {
        Counting d = new Counting(10, 100);
        Generator.Result r = greedy(d, -1, new int[] {0}, 5, new ArrayList<>());
        assertThat(r.tokens()).containsExactly(1, 2, 3, 4, 5);
        assertThat(r.stop()).isEqualTo(Generator.StopReason.MAX_NEW_TOKENS);
        assertThat(d.fed).containsExactly(0, 1, 2, 3, 4);
        assertThat(greedy(d, -1, new int[] {0}, 0, new ArrayList<>()).tokens()).isEmpty();
    }

    @Test
    void stopsWhenPromptPlusOutputFillMaxPositions() {
        Counting d = new Counting(10, 8);
        Generator.Result r = greedy(d, -1, new int[] {0, 1, 2}, 100, new ArrayList<>());
        assertThat(r.tokens()).containsExactly(3, 4, 5, 6, 7);
        assertThat(r.stop()).isEqualTo(Generator.StopReason.MAX_POSITIONS);
        Generator.Result one = greedy(d, -1, new int[] {0, 1, 2, 3, 4, 5, 6}, 100, new ArrayList<>());
        assertThat(one.tokens()).as("a prompt of max-1 tokens leaves room for one").containsExactly(7);
        assertThat(one.decodeSteps()).isZero();
    }

    @Test
    void rejectsTooLongEmptyOrOutOfVocabularyPrompts() {
        Counting d = new Counting(10, 8);
        assertThatThrownBy(() -> greedy(d, -1, new int[8], 5, new ArrayList<>()))
                .hasMessageContaining("8 tokens").hasMessageContaining("max_position_embeddings is 8")
                .hasMessageContaining("at most 7");
        assertThatThrownBy(() -> greedy(d, -1, new int[20], 5, new ArrayList<>()))
                .hasMessageContaining("20 tokens");
        assertThatThrownBy(() -> greedy(d, -1, new int[0], 5, new ArrayList<>())).hasMessageContaining("empty");
        assertThatThrownBy(() -> greedy(d, -1, new int[] {3, 10}, 5, new ArrayList<>()))
                .hasMessageContaining("prompt token 1 is id 10");
        assertThatThrownBy(() -> greedy(d, -1, new int[] {3}, -1, new ArrayList<>()))
                .hasMessageContaining(">= 0");
    }

    @Test
    void realModelStopsAtEosAndAtItsMaxPositions() {
        ModelConfig cfg = TestModels.micro(16).toBuilder().maxPositionEmbeddings(20).build();
        DeepSeekModel m = CachedDecoderTest.model(cfg, 5, 0.15);
        int[] prompt = CachedDecoderTest.randomTokens(cfg.vocabSize(), 4, 1);
        Generator.Result free = greedy(new CachedDecoder(m), -1, prompt, 100, new ArrayList<>());
        assertThat(free.stop()).isEqualTo(Generator.StopReason.MAX_POSITIONS);
        assertThat(free.tokens()).hasSize(16);
        int eos = free.tokens()[5];
        int firstEos = Arrays.stream(free.tokens()).boxed().toList().indexOf(eos);
        Generator.Result stopped = greedy(new CachedDecoder(m), eos, prompt, 100, new ArrayList<>());
        assertThat(stopped.stop()).isEqualTo(Generator.StopReason.EOS);
        assertThat(stopped.tokens()).isEqualTo(Arrays.copyOf(free.tokens(), firstEos));
    }
}
