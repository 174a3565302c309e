package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * tokenizer.json's {@code post_processor} for a single sequence: {@code ByteLevel} (leaves ids alone; it only trims
 * offsets), {@code TemplateProcessing} (its {@code single} template: special-token ids around {@code $A}), or a
 * {@code Sequence} of those. Runs only when special tokens are requested, as HF's templates add ids only then.
 * Other types are an error naming the type.
 */
final class PostProcessor {
    /** Ids before $A and after it, when special tokens are added. */
    private final int[] prefix;
    private final int[] suffix;
    private final JsonNode json;

    private PostProcessor(int[] prefix, int[] suffix, JsonNode json) {
        this.prefix = prefix;
        this.suffix = suffix;
        this.json = json;
    }

    /**
     * Our trained tokenizers' template: single = {@code BOS $A}; pair = {@code BOS $A BOS $B} (type id 1 for the second
     * sequence and its BOS), so a pair is two documents each opened by BOS, as in pre-training packing.
     */
    static PostProcessor bosTemplate(String bos, int bosId) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode n = f.objectNode();
        n.put("type", "TemplateProcessing");
        ArrayNode single = n.putArray("single");
        single.add(special(f, bos, 0));
        single.add(sequence(f, "A", 0));
        ArrayNode pair = n.putArray("pair");
        pair.add(special(f, bos, 0));
        pair.add(sequence(f, "A", 0));
        pair.add(special(f, bos, 1));
        pair.add(sequence(f, "B", 1));
        ObjectNode st = n.putObject("special_tokens").putObject(bos);
        st.put("id", bos);
        st.putArray("ids").add(bosId);
        st.putArray("tokens").add(bos);
        return fromJson(n);
    }

    private static ObjectNode special(JsonNodeFactory f, String token, int typeId) {
        ObjectNode o = f.objectNode();
        o.putObject("SpecialToken").put("id", token).put("type_id", typeId);
        return o;
    }

    private static ObjectNode sequence(JsonNodeFactory f, String id, int typeId) {
        ObjectNode o = f.objectNode();
        o.putObject("Sequence").put("id", id).put("type_id", typeId);
        return o;
    }

    static PostProcessor fromJson(JsonNode node) {
        List<Integer> pre = new ArrayList<>();
        List<Integer> post = new ArrayList<>();
        if (node != null && !node.isNull()) {
            collect(node, pre, post);
        }
        return new PostProcessor(toArray(pre), toArray(post), node == null || node.isNull() ? null : node.deepCopy());
    }

    private static void collect(JsonNode node, List<Integer> pre, List<Integer> post) {
        String type = Json.text(node, "type", "post_processor");
        switch (type) {
            case "ByteLevel":
                return;
            case "Sequence": {
                JsonNode list = node.get("processors");
                if (list == null || !list.isArray()) {
                    throw new IllegalArgumentException("post_processor Sequence needs a \"processors\" array, got: " + node);
                }
                list.forEach(p -> collect(p, pre, post));
                return;
            }
            case "TemplateProcessing":
                template(node, pre, post);
                return;
            default:
                throw new IllegalArgumentException("unsupported post_processor type '" + type
                        + "'; supported: ByteLevel, TemplateProcessing, Sequence (or null)");
        }
    }

    private static void template(JsonNode node, List<Integer> pre, List<Integer> post) {
        JsonNode single = node.get("single");
        JsonNode specials = node.get("special_tokens");
        if (single == null || !single.isArray() || specials == null || !specials.isObject()) {
            throw new IllegalArgumentException(
                    "TemplateProcessing needs a \"single\" array and a \"special_tokens\" object, got: " + Json.abbreviate(node));
        }
        boolean seenA = false;
        for (JsonNode piece : single) {
            if (piece.has("Sequence")) {
                seenA = true;
                continue;
            }
            JsonNode sp = piece.get("SpecialToken");
            if (sp == null) {
                throw new IllegalArgumentException("TemplateProcessing piece must be SpecialToken or Sequence, got: " + piece);
            }
            String name = Json.text(sp, "id", "TemplateProcessing SpecialToken");
            JsonNode entry = specials.get(name);
            if (entry == null || !entry.has("ids") || !entry.get("ids").isArray()) {
                throw new IllegalArgumentException("TemplateProcessing uses special token '" + name
                        + "' but special_tokens has no \"ids\" for it");
            }
            for (JsonNode id : entry.get("ids")) {
                (seenA ? post : pre).add(id.intValue());
            }
        }
    }

    private static int[] toArray(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Adds the template's special ids around {@code ids} (HF's {@code process} with add_special_tokens=true). */
    int[] addSpecialTokens(int[] ids) {
        if (prefix.length == 0 && suffix.length == 0) {
            return ids;
        }
        int[] out = new int[prefix.length + ids.length + suffix.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(ids, 0, out, prefix.length, ids.length);
        System.arraycopy(suffix, 0, out, prefix.length + ids.length, suffix.length);
        return out;
    }

    JsonNode toJson() {
        return json == null ? null : json.deepCopy();
    }
}
