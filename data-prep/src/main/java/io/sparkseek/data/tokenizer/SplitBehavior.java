package io.sparkseek.data.tokenizer;

import java.util.Locale;

/**
 * What a {@code Split} pre-tokenizer does with the matches of its pattern: HF tokenizers'
 * {@code SplitDelimiterBehavior} (serialized as {@code "Isolated"}, {@code "Removed"}, ...).
 */
public enum SplitBehavior {
    /** Matches are dropped. */
    REMOVED("Removed"),
    /** Matches and the text between them are separate pieces. */
    ISOLATED("Isolated"),
    /** A match is appended to the piece before it. */
    MERGED_WITH_PREVIOUS("MergedWithPrevious"),
    /** A match is prepended to the piece after it. */
    MERGED_WITH_NEXT("MergedWithNext"),
    /** Consecutive matches form one piece. */
    CONTIGUOUS("Contiguous");

    private final String jsonName;

    SplitBehavior(String jsonName) {
        this.jsonName = jsonName;
    }

    /** The name in tokenizer.json. */
    public String jsonName() {
        return jsonName;
    }

    /** Parses the tokenizer.json name (HF also accepts lower case). */
    public static SplitBehavior fromJson(String name) {
        for (SplitBehavior b : values()) {
            if (b.jsonName.equals(name) || b.jsonName.toLowerCase(Locale.ROOT).equals(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("unsupported Split behavior '" + name
                + "'; expected one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
    }
}
