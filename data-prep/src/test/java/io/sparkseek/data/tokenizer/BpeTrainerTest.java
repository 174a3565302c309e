package io.sparkseek.data.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BpeTrainerTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * The reference: recount every pair of every word at each step, pick the highest count, ties to the smallest
     * (left id, right id), merge left to right in every word. Returns the merges as "a b" token strings.
     */
    private static List<String> bruteForceMerges(Map<String, Long> counts, TrainerOptions o) {
        List<String> tokens = new ArrayList<>(o.specialTokens());
        ByteLevel bl = ByteLevel.table();
        for (int b = 0; b < ByteLevel.BYTE_COUNT; b++) {
            tokens.add(String.valueOf(bl.charOf(b)));
        }
        int firstByte = o.specialTokens().size();
        List<List<Integer>> words = new ArrayList<>();
        List<Long> wordCounts = new ArrayList<>();
        counts.forEach((piece, c) -> {
            List<Integer> w = new ArrayList<>();
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                w.add(firstByte + (b & 0xFF));
            }
            words.add(w);
            wordCounts.add(c);
        });
        List<String> merges = new ArrayList<>();
        while (new java.util.HashSet<>(tokens).size() < o.vocabSize()) {
            Map<List<Integer>, Long> pairs = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<Integer> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) {
                    pairs.merge(List.of(s.get(i), s.get(i + 1)), wordCounts.get(w), Long::sum);
                }
            }
            List<Integer> best = null;
            long bestCount = 0;
            for (Map.Entry<List<Integer>, Long> e : pairs.entrySet()) {
                List<Integer> p = e.getKey();
                long c = e.getValue();
                boolean better = c > bestCount || (c == bestCount && best != null && (p.get(0) < best.get(0)
                        || (p.get(0).equals(best.get(0)) && p.get(1) < best.get(1))));
                if (better) {
                    best = p;
                    bestCount = c;
                }
            }
            if (best == null || bestCount < o.minFrequency()) {
                break;
            }
            String merged = tokens.get(best.get(0)) + tokens.get(best.get(1));
            merges.add(tokens.get(best.get(0)) + " " + tokens.get(best.get(1)));
            int newId = tokens.indexOf(merged);
            if (newId < 0) {
                newId = tokens.size();
                tokens.add(merged);
            }
            for (List<Integer> s : words) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i).equals(best.get(0)) && s.get(i + 1).equals(best.get(1))) {
                        s.set(i, newId);
                        s.remove(i + 1);
                    }
                }
            }
        }
        return merges;
    }

    private static List<String> merges(BpeTokenizer tok) throws Exception {
        List<String> out = new ArrayList<>();
        MAPPER.readTree(tok.toJson()).get("model").get("merges").forEach(m -> out.add(m.asText()));
        return out;
    }

    @Test
    void tinyCorpusMatchesBruteForce() throws Exception {
        Map<String, Long> counts = new LinkedHashMap<>();
        counts.put("low", 5L);
        counts.put(" lower", 2L);
        counts.put(" newest", 6L);
        counts.put(" widest", 3L);
        counts.put("aaaa", 4L);
        counts.put(" aaa", 3L);
        counts.put("né", 2L);
        counts.put("ab", 1L);
        counts.put("ba", 1L);
        TrainerOptions o = new TrainerOptions(3 + 256 + 14, 1, TrainerOptions.defaults(300).specialTokens());
        List<String> want = bruteForceMerges(counts, o);
        // by hand: "a a" 4*3 + 3*2 = 18; then "e s" and "s t" tie at 9 (newest 6 + widest 3), 'e' < 's' wins; "es t" 9;
        // "l o" and "o w" tie at 7, 'l' < 'o'; "lo w" 7; then six pairs at 6 (newest), the space byte's id is smallest
        assertThat(want).hasSizeGreaterThan(10).startsWith("a a", "e s", "es t", "l o", "lo w", "Ġ n");
        assertThat(merges(BpeTrainer.train(counts, o))).isEqualTo(want);
    }

    @Test
    void randomCorporaMatchBruteForce() throws Exception {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int trial = 0; trial < 20; trial++) {
            Map<String, Long> counts = new HashMap<>();
            int words = 5 + rnd.nextInt(40);
            for (int w = 0; w < words; w++) {
                StringBuilder sb = new StringBuilder(rnd.nextBoolean() ? " " : "");
                int len = 1 + rnd.nextInt(8);
                for (int i = 0; i < len; i++) {
                    sb.append("abcé".charAt(rnd.nextInt(4)));
                }
                counts.merge(sb.toString(), 1L + rnd.nextInt(5), Long::sum);
            }
            TrainerOptions o = new TrainerOptions(3 + 256 + 1 + rnd.nextInt(30), 1 + rnd.nextInt(2),
                    TrainerOptions.defaults(300).specialTokens());
            assertThat(merges(BpeTrainer.train(counts, o))).as("trial %d: %s", trial, counts)
                    .isEqualTo(bruteForceMerges(counts, o));
        }
    }

    @Test
    void resultDoesNotDependOnMapOrder() {
        Map<String, Long> counts = TestTexts.pieceCounts(TestTexts.corpus(11, 50_000));
        List<Map.Entry<String, Long>> entries = new ArrayList<>(counts.entrySet());
        String first = BpeTrainer.train(counts, TrainerOptions.defaults(700)).toJson();
        for (long seed = 0; seed < 3; seed++) {
            Collections.shuffle(entries, new java.util.Random(seed));
            Map<String, Long> shuffled = new LinkedHashMap<>();
            entries.forEach(e -> shuffled.put(e.getKey(), e.getValue()));
            assertThat(BpeTrainer.train(shuffled, TrainerOptions.defaults(700)).toJson()).isEqualTo(first);
        }
    }

    @Test
    void vocabularyLayoutAndSize() throws Exception {
        BpeTokenizer tok = TestTexts.trained(5, 50_000, 500);
        assertThat(tok.vocabSize()).isEqualTo(500);
        assertThat(tok.bosId()).isZero();
        assertThat(tok.eosId()).isEqualTo(1);
        assertThat(tok.padId()).isEqualTo(2);
        ByteLevel bl = ByteLevel.table();
        for (int b = 0; b < ByteLevel.BYTE_COUNT; b++) {
            assertThat(tok.tokenToId(String.valueOf(bl.charOf(b)))).hasValue(3 + b);
        }
        assertThat(tok.encode("hello", true)[0]).isZero();
        assertThat(tok.encodeOrdinary(BpeTokenizer.EOS_TOKEN)).doesNotContain(1);
        assertThat(tok.encode(BpeTokenizer.EOS_TOKEN, false)).containsExactly(1);
        JsonNode config = MAPPER.readTree(tok.tokenizerConfigJson());
        assertThat(config.get("tokenizer_class").asText()).isEqualTo("PreTrainedTokenizerFast");
        assertThat(config.get("bos_token").asText()).isEqualTo(BpeTokenizer.BOS_TOKEN);
        assertThat(config.get("eos_token").asText()).isEqualTo(BpeTokenizer.EOS_TOKEN);
        assertThat(config.get("pad_token").asText()).isEqualTo(BpeTokenizer.PAD_TOKEN);
        assertThat(config.get("clean_up_tokenization_spaces").asBoolean()).isFalse();
        assertThat(config.get("add_bos_token").asBoolean()).isTrue();
        assertThat(config.get("add_eos_token").asBoolean()).isFalse();
        assertThat(config.get("model_max_length").asInt()).isEqualTo(BpeTokenizer.DEFAULT_MODEL_MAX_LENGTH);
    }

    @Test
    void minFrequencyStopsEarly() {
        Map<String, Long> counts = Map.of("abab", 1L, "cd", 1L);
        BpeTokenizer tok = BpeTrainer.train(counts, new TrainerOptions(1000, 2,
                TrainerOptions.defaults(1000).specialTokens()));
        assertThat(tok.mergeCount()).isEqualTo(1); // "a b" occurs twice in "abab"; everything else once
        assertThat(tok.vocabSize()).isEqualTo(3 + 256 + 1);
    }

    @Test
    void fiftyThousandPiecesAndEightThousandMergesTakeSeconds() {
        Map<String, Long> counts = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(1);
        String letters = "etaoinshrdlcumwfgypbvkjxqz";
        while (counts.size() < 50_000) {
            StringBuilder sb = new StringBuilder(rnd.nextInt(3) == 0 ? "" : " ");
            int len = 2 + rnd.nextInt(10);
            for (int i = 0; i < len; i++) {
                // skewed letter distribution, as in text
                sb.append(letters.charAt(Math.min(rnd.nextInt(letters.length()), rnd.nextInt(letters.length()))));
            }
            counts.merge(sb.toString(), 1L + (long) (1000 / (1 + rnd.nextInt(1000))), Long::sum);
        }
        long t0 = System.nanoTime();
        BpeTokenizer tok = BpeTrainer.train(counts, TrainerOptions.defaults(3 + 256 + 8000));
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("BpeTrainer: %d pieces, %d merges in %.2f s%n", counts.size(), tok.mergeCount(), seconds);
        assertThat(tok.mergeCount()).isGreaterThanOrEqualTo(8000);
        assertThat(seconds).as("training time (s)").isLessThan(30);
    }

    @Test
    void optionsAreValidated() {
        List<String> specials = TrainerOptions.defaults(300).specialTokens();
        assertThatThrownBy(() -> new TrainerOptions(258, 1, specials)).hasMessageContaining("vocabSize 258")
                .hasMessageContaining("at least 259");
        assertThatThrownBy(() -> new TrainerOptions(300, 0, specials)).hasMessageContaining("minFrequency");
        assertThatThrownBy(() -> new TrainerOptions(300, 1, List.of())).hasMessageContaining("specialTokens");
        assertThatThrownBy(() -> new TrainerOptions(300, 1, List.of("a", "a"))).hasMessageContaining("duplicates");
        assertThatThrownBy(() -> BpeTrainer.train(Map.of("x", -1L), TrainerOptions.defaults(300)))
                .hasMessageContaining("'x' -> -1");
    }
}
