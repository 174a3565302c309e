package io.sparkseek.data.tokenizer;

import java.util.HashSet;
import java.util.List;

/**
 * Options of {@link BpeTrainer}.
 *
 * @param vocabSize total number of distinct tokens wanted: special tokens + 256 byte tokens + merged tokens
 * @param minFrequency merging stops when the most frequent pair occurs fewer times than this (at least 1)
 * @param specialTokens added special tokens, given ids 0, 1, ... in this order; the first is the BOS that the trained
 *     tokenizer's post-processor prepends
 */
public record TrainerOptions(int vocabSize, long minFrequency, List<String> specialTokens) {
    /** The byte alphabet every byte-level vocabulary starts with. */
    public static final int BYTE_TOKENS = ByteLevel.BYTE_COUNT;
    /** The default minimum pair frequency: a pair seen twice is worth a token. */
    public static final long DEFAULT_MIN_FREQUENCY = 2;

    public TrainerOptions {
        if (specialTokens == null || specialTokens.isEmpty()) {
            throw new IllegalArgumentException("specialTokens must list at least the BOS token, got " + specialTokens);
        }
        specialTokens = List.copyOf(specialTokens);
        if (new HashSet<>(specialTokens).size() != specialTokens.size()) {
            throw new IllegalArgumentException("specialTokens has duplicates: " + specialTokens);
        }
        for (String s : specialTokens) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("specialTokens contains an empty string: " + specialTokens);
            }
        }
        if (vocabSize < specialTokens.size() + BYTE_TOKENS) {
            throw new IllegalArgumentException("vocabSize " + vocabSize + " is below " + specialTokens.size()
                    + " special tokens + " + BYTE_TOKENS + " byte tokens; raise vocabSize to at least "
                    + (specialTokens.size() + BYTE_TOKENS));
        }
        if (minFrequency < 1) {
            throw new IllegalArgumentException("minFrequency must be >= 1, got " + minFrequency);
        }
    }

    /** DeepSeek-V3's specials (BOS id 0, EOS id 1, PAD id 2) and {@link #DEFAULT_MIN_FREQUENCY}. */
    public static TrainerOptions defaults(int vocabSize) {
        return new TrainerOptions(vocabSize, DEFAULT_MIN_FREQUENCY,
                List.of(BpeTokenizer.BOS_TOKEN, BpeTokenizer.EOS_TOKEN, BpeTokenizer.PAD_TOKEN));
    }

    /** The same options with another vocabulary size. */
    public TrainerOptions withVocabSize(int newVocabSize) {
        return new TrainerOptions(newVocabSize, minFrequency, specialTokens);
    }
}
