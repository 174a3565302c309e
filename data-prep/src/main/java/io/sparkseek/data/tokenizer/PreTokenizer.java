package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A pre-tokenizer from HF tokenizers' {@code tokenizer.json}: splits text into the pieces BPE then encodes one at a
 * time. Supported: {@code Sequence}, {@code Split}, {@code ByteLevel} and {@code Digits}; any other type is an error.
 * {@link #deepSeekV3()} is spec §10's exact pre-tokenizer. Immutable and thread-safe.
 */
public abstract class PreTokenizer {
    /** Spec §10 pattern (1): digits in groups of up to three. */
    static final String DEEPSEEK_DIGITS = "\\p{N}{1,3}";
    /** Spec §10 pattern (2): runs of CJK ideographs, Hiragana and Katakana. */
    static final String DEEPSEEK_CJK = "[一-龥぀-ゟ゠-ヿ]+";
    /** Spec §10 pattern (3): words, punctuation runs, line breaks and whitespace. */
    static final String DEEPSEEK_WORDS = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"
            + "|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

    PreTokenizer() {}

    /** Applies this step to every piece of {@code in}. */
    abstract Pieces apply(Pieces in);

    /** This pre-tokenizer as a tokenizer.json node. */
    abstract ObjectNode toJson(JsonNodeFactory f);

    /** The ByteLevel step that ends this pre-tokenizer, or null if it does not end with one. */
    ByteLevelPreTokenizer finalByteLevel() {
        return null;
    }

    /** The pieces of {@code text} as (original, unmapped) text, in order; none for the empty string. */
    public final List<String> split(String text) {
        Pieces p = apply(Pieces.whole(text));
        List<String> out = new ArrayList<>(p.count());
        for (int i = 0; i < p.count(); i++) {
            out.add(p.piece(i));
        }
        return out;
    }

    /** Spec §10: three isolating regex splits, then byte-level mapping without prefix space or GPT-2 regex. */
    public static PreTokenizer deepSeekV3() {
        return new SequencePreTokenizer(List.of(
                SplitPreTokenizer.regex(DEEPSEEK_DIGITS, SplitBehavior.ISOLATED, false),
                SplitPreTokenizer.regex(DEEPSEEK_CJK, SplitBehavior.ISOLATED, false),
                SplitPreTokenizer.regex(DEEPSEEK_WORDS, SplitBehavior.ISOLATED, false),
                new ByteLevelPreTokenizer(false, true, false)));
    }

    /** Parses a pre-tokenizer's JSON (the value of tokenizer.json's {@code "pre_tokenizer"}). */
    public static PreTokenizer fromJson(String json) {
        try {
            return fromJson(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("pre_tokenizer is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** This pre-tokenizer's tokenizer.json form. */
    public String toJsonString() {
        return toJson(JsonNodeFactory.instance).toString();
    }

    /** Builds a pre-tokenizer from its tokenizer.json node ({@code "pre_tokenizer"}). */
    public static PreTokenizer fromJson(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("pre_tokenizer must be a JSON object with a \"type\", got: " + node);
        }
        String type = Json.text(node, "type", "pre_tokenizer");
        switch (type) {
            case "Sequence": {
                JsonNode steps = node.get("pretokenizers");
                if (steps == null || !steps.isArray()) {
                    throw new IllegalArgumentException("pre_tokenizer Sequence needs a \"pretokenizers\" array, got: " + node);
                }
                List<PreTokenizer> list = new ArrayList<>();
                steps.forEach(s -> list.add(fromJson(s)));
                return new SequencePreTokenizer(list);
            }
            case "Split":
                return SplitPreTokenizer.fromSplitJson(node);
            case "ByteLevel":
                return new ByteLevelPreTokenizer(Json.bool(node, "add_prefix_space", true),
                        Json.bool(node, "trim_offsets", true), Json.bool(node, "use_regex", true));
            case "Digits":
                return new DigitsPreTokenizer(Json.bool(node, "individual_digits", false));
            default:
                throw new IllegalArgumentException("unsupported pre_tokenizer type '" + type
                        + "'; supported: Sequence, Split, ByteLevel, Digits");
        }
    }
}
