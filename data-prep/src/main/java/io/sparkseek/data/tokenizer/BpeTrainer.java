package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * Trains a byte-level BPE tokenizer (spec §10: byte-level BPE, DeepSeek-V3's pre-tokenizer) from pre-token counts,
 * the classic Sennrich et al. procedure as HF's {@code BpeTrainer} runs it.
 *
 * <p>Ids: the special tokens first (0, 1, ...), then the 256 byte tokens in byte order, then each merge's token in
 * creation order. Every step merges the adjacent pair with the highest count (a word of count c containing a pair k
 * times adds k*c, overlapping occurrences included); <b>ties go to the smallest (left id, right id)</b>, i.e. the pair
 * whose left token was created first, then whose right token was. A merge rewrites each word left to right,
 * non-overlapping. A merge whose token already exists (another split of the same bytes) is recorded with the existing
 * id and adds no token. Training stops when the vocabulary reaches {@code vocabSize} or the best count is below
 * {@code minFrequency}.
 *
 * <p>Incremental: only the words containing the merged pair are rewritten and their pairs recounted; candidates sit
 * in a priority queue and an entry whose count is out of date is skipped when popped (every count change pushes a
 * fresh entry). The result is a pure function of the counts (pieces are NFC-normalized, summed and sorted first).
 *
 * <p>The trained tokenizer: NFC normalizer, {@link PreTokenizer#deepSeekV3()}, a {@code TemplateProcessing}
 * post-processor (single: {@code BOS $A}; pair: {@code BOS $A BOS $B}, each document opened by BOS), the special tokens
 * as non-normalized special added tokens, and a ByteLevel decoder.
 */
public final class BpeTrainer {
    private BpeTrainer() {}

    /** Trains on pre-token pieces (as {@link PreTokenizer#split} returns them) with their counts. */
    public static BpeTokenizer train(Map<String, Long> pieceCounts, TrainerOptions options) {
        return new Run(pieceCounts, options).train();
    }

    /** One training run's mutable state. */
    private static final class Run {
        private final TrainerOptions options;
        private final int[][] words;
        private final long[] counts;
        private final List<String> tokenStrings = new ArrayList<>();
        private final Map<String, Integer> vocab = new HashMap<>();
        private final List<String[]> merges = new ArrayList<>();
        private final Map<Long, long[]> pairCounts = new HashMap<>();
        private final Map<Long, IntBag> pairWords = new HashMap<>();
        private final PriorityQueue<Candidate> queue = new PriorityQueue<>();
        private final int[] visitedAtMerge;

        Run(Map<String, Long> pieceCounts, TrainerOptions options) {
            this.options = options;
            TreeMap<String, Long> sorted = new TreeMap<>();
            pieceCounts.forEach((piece, count) -> {
                if (piece == null || count == null || count < 0) {
                    throw new IllegalArgumentException("pieceCounts entry '" + piece + "' -> " + count
                            + " is invalid; pieces must be non-null with counts >= 0");
                }
                if (count > 0 && !piece.isEmpty()) {
                    sorted.merge(Normalizer.normalize(piece, Normalizer.Form.NFC), count, Math::addExact);
                }
            });
            for (String s : options.specialTokens()) {
                addToken(s);
            }
            int firstByteId = tokenStrings.size();
            ByteLevel bl = ByteLevel.table();
            for (int b = 0; b < ByteLevel.BYTE_COUNT; b++) {
                addToken(String.valueOf(bl.charOf(b)));
            }
            words = new int[sorted.size()][];
            counts = new long[sorted.size()];
            int w = 0;
            for (Map.Entry<String, Long> e : sorted.entrySet()) {
                byte[] bytes = e.getKey().getBytes(StandardCharsets.UTF_8);
                int[] sym = new int[bytes.length];
                for (int i = 0; i < bytes.length; i++) {
                    sym[i] = firstByteId + (bytes[i] & 0xFF);
                }
                words[w] = sym;
                counts[w] = e.getValue();
                w++;
            }
            visitedAtMerge = new int[words.length];
            Arrays.fill(visitedAtMerge, -1);
        }

        private int addToken(String token) {
            Integer existing = vocab.get(token);
            if (existing != null) {
                return existing;
            }
            int id = tokenStrings.size();
            tokenStrings.add(token);
            vocab.put(token, id);
            return id;
        }

        BpeTokenizer train() {
            for (int w = 0; w < words.length; w++) {
                countPairs(w, +1);
            }
            pairCounts.forEach((key, c) -> queue.add(new Candidate(c[0], key)));
            while (tokenStrings.size() < options.vocabSize() && !queue.isEmpty()) {
                Candidate best = queue.poll();
                long[] current = pairCounts.get(best.pair);
                if (current == null || current[0] != best.count) {
                    continue; // stale: this pair's count changed after the entry was pushed
                }
                if (best.count < options.minFrequency()) {
                    break;
                }
                merge(best.pair);
            }
            return build();
        }

        /** Adds (sign +1) or removes (-1) word w's adjacent pairs to the pair counts; returns nothing. */
        private void countPairs(int w, int sign) {
            int[] s = words[w];
            for (int i = 0; i + 1 < s.length; i++) {
                long key = PairRanks.key(s[i], s[i + 1]);
                long[] c = pairCounts.computeIfAbsent(key, k -> new long[1]);
                c[0] += sign * counts[w];
                if (sign > 0) {
                    pairWords.computeIfAbsent(key, k -> new IntBag()).add(w);
                }
            }
        }

        private void merge(long pair) {
            int left = (int) (pair >>> Integer.SIZE);
            int right = (int) pair;
            String leftToken = tokenStrings.get(left);
            String rightToken = tokenStrings.get(right);
            int newId = addToken(leftToken + rightToken);
            int step = merges.size();
            merges.add(new String[] {leftToken, rightToken});
            IntBag where = pairWords.remove(pair);
            Map<Long, Boolean> touched = new LinkedHashMap<>();
            for (int k = 0; k < where.size; k++) {
                int w = where.items[k];
                if (visitedAtMerge[w] == step) {
                    continue;
                }
                visitedAtMerge[w] = step;
                int[] s = words[w];
                int[] rewritten = rewrite(s, left, right, newId);
                if (rewritten == s) {
                    continue; // listed earlier, but an older merge removed the pair from this word
                }
                touch(s, touched);
                countPairs(w, -1);
                words[w] = rewritten;
                countPairs(w, +1);
                touch(rewritten, touched);
            }
            pairCounts.remove(pair);
            for (Long key : touched.keySet()) {
                long[] c = pairCounts.get(key);
                if (c == null) {
                    continue;
                }
                if (c[0] == 0) {
                    pairCounts.remove(key);
                } else {
                    queue.add(new Candidate(c[0], key));
                }
            }
        }

        private static void touch(int[] s, Map<Long, Boolean> touched) {
            for (int i = 0; i + 1 < s.length; i++) {
                touched.put(PairRanks.key(s[i], s[i + 1]), Boolean.TRUE);
            }
        }

        /** Word s with every (left, right) replaced by newId, left to right; s itself when it has no such pair. */
        private static int[] rewrite(int[] s, int left, int right, int newId) {
            int[] out = null;
            int n = 0;
            for (int i = 0; i < s.length; i++) {
                if (i + 1 < s.length && s[i] == left && s[i + 1] == right) {
                    if (out == null) {
                        out = Arrays.copyOf(s, s.length);
                        n = i;
                    }
                    out[n++] = newId;
                    i++;
                } else if (out != null) {
                    out[n++] = s[i];
                }
            }
            return out == null ? s : Arrays.copyOf(out, n);
        }

        private BpeTokenizer build() {
            Map<String, Integer> modelVocab = new HashMap<>(vocab);
            List<AddedToken> added = new ArrayList<>();
            for (int i = 0; i < options.specialTokens().size(); i++) {
                added.add(AddedToken.special(i, options.specialTokens().get(i)));
            }
            BpeModel model = new BpeModel(modelVocab, merges, false, null, false);
            ObjectNode decoder = JsonNodeFactory.instance.objectNode();
            decoder.put("type", "ByteLevel");
            decoder.put("add_prefix_space", true);
            decoder.put("trim_offsets", true);
            decoder.put("use_regex", true);
            return new BpeTokenizer(model, PreTokenizer.deepSeekV3(), TextNormalizer.nfc(),
                    PostProcessor.bosTemplate(options.specialTokens().get(0), 0), decoder, added);
        }
    }

    /** A queue entry: a pair and its count when pushed. Highest count first, then smallest (left, right). */
    private record Candidate(long count, long pair) implements Comparable<Candidate> {
        @Override
        public int compareTo(Candidate o) {
            int byCount = Long.compare(o.count, count);
            return byCount != 0 ? byCount : Long.compare(pair, o.pair);
        }
    }

    /** A growable bag of word indices (duplicates allowed; the merge loop skips repeats). */
    private static final class IntBag {
        private static final int INITIAL_CAPACITY = 4;
        int[] items = new int[INITIAL_CAPACITY];
        int size;

        void add(int v) {
            if (size == items.length) {
                items = Arrays.copyOf(items, 2 * size);
            }
            items[size++] = v;
        }
    }
}
