package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An entry of tokenizer.json's {@code added_tokens}: text matched in the raw input before pre-tokenization (HF
 * {@code AddedToken}). {@code normalized} tokens are matched in normalized text, the others in the raw text;
 * {@code lstrip}/{@code rstrip} absorb neighbouring whitespace; {@code singleWord} tokens only match between
 * non-word characters.
 */
public record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip,
        boolean normalized, boolean special) {

    public AddedToken {
        if (id < 0) {
            throw new IllegalArgumentException("added token '" + content + "' has negative id " + id);
        }
        if (content == null || content.isEmpty()) {
            throw new IllegalArgumentException("added token with id " + id + " has empty content");
        }
    }

    /** A special token matched on raw text, without stripping (how DeepSeek's BOS/EOS/PAD are declared). */
    public static AddedToken special(int id, String content) {
        return new AddedToken(id, content, false, false, false, false, true);
    }

    static AddedToken fromJson(JsonNode n) {
        if (n == null || !n.isObject() || !n.has("id") || !n.get("id").canConvertToInt()) {
            throw new IllegalArgumentException("added_tokens entry needs an integer \"id\", got: " + Json.abbreviate(n));
        }
        return new AddedToken(n.get("id").intValue(), Json.text(n, "content", "added_tokens entry"),
                Json.bool(n, "single_word", false), Json.bool(n, "lstrip", false), Json.bool(n, "rstrip", false),
                Json.bool(n, "normalized", true), Json.bool(n, "special", false));
    }

    ObjectNode toJson(JsonNodeFactory f) {
        ObjectNode n = f.objectNode();
        n.put("id", id);
        n.put("content", content);
        n.put("single_word", singleWord);
        n.put("lstrip", lstrip);
        n.put("rstrip", rstrip);
        n.put("normalized", normalized);
        n.put("special", special);
        return n;
    }
}
