package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/** Small helpers that read tokenizer.json fields with errors naming the field and where it was expected. */
final class Json {
    private Json() {}

    /** A required string field. */
    static String text(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException(where + " needs a string field \"" + field + "\", got: " + abbreviate(node));
        }
        return v.asText();
    }

    /** An optional boolean field (absent or null gives {@code dflt}). */
    static boolean bool(JsonNode node, String field, boolean dflt) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw new IllegalArgumentException("field \"" + field + "\" must be true or false, got: " + v);
        }
        return v.booleanValue();
    }

    /** The node, cut to a readable length for an error message. */
    static String abbreviate(JsonNode node) {
        final int maxChars = 200;
        String s = String.valueOf(node);
        return s.length() <= maxChars ? s : s.substring(0, maxChars) + "...";
    }
}
