package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * tokenizer.json's {@code normalizer}: null, a Unicode normal form ({@code NFC}, {@code NFD}, {@code NFKC},
 * {@code NFKD}) or a {@code Sequence} of those. Other HF normalizers are an error naming the type. DeepSeek-V3 uses an
 * empty Sequence (no normalization); tokenizers we train use NFC.
 */
final class TextNormalizer {
    private final List<Normalizer.Form> forms;
    /** The tokenizer.json node, kept to write it back as read (null when absent). */
    private final JsonNode json;

    private TextNormalizer(List<Normalizer.Form> forms, JsonNode json) {
        this.forms = List.copyOf(forms);
        this.json = json;
    }

    static TextNormalizer nfc() {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("type", "NFC");
        return new TextNormalizer(List.of(Normalizer.Form.NFC), n);
    }

    static TextNormalizer fromJson(JsonNode node) {
        if (node == null || node.isNull()) {
            return new TextNormalizer(List.of(), null);
        }
        List<Normalizer.Form> forms = new ArrayList<>();
        collect(node, forms);
        return new TextNormalizer(forms, node.deepCopy());
    }

    private static void collect(JsonNode node, List<Normalizer.Form> forms) {
        String type = Json.text(node, "type", "normalizer");
        switch (type) {
            case "Sequence": {
                JsonNode list = node.get("normalizers");
                if (list == null || !list.isArray()) {
                    throw new IllegalArgumentException("normalizer Sequence needs a \"normalizers\" array, got: " + node);
                }
                list.forEach(n -> collect(n, forms));
                return;
            }
            case "NFC":
            case "NFD":
            case "NFKC":
            case "NFKD":
                forms.add(Normalizer.Form.valueOf(type));
                return;
            default:
                throw new IllegalArgumentException("unsupported normalizer type '" + type
                        + "'; supported: Sequence, NFC, NFD, NFKC, NFKD (or null)");
        }
    }

    boolean isIdentity() {
        return forms.isEmpty();
    }

    String apply(String text) {
        String s = text;
        for (Normalizer.Form f : forms) {
            s = Normalizer.normalize(s, f);
        }
        return s;
    }

    /** The node to write into tokenizer.json (null for no normalizer). */
    JsonNode toJson() {
        return json == null ? null : json.deepCopy();
    }
}
