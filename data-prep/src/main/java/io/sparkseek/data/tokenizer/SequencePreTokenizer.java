package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** HF {@code Sequence} pre-tokenizer: each step splits the pieces of the one before. */
final class SequencePreTokenizer extends PreTokenizer {
    private final List<PreTokenizer> steps;

    SequencePreTokenizer(List<PreTokenizer> steps) {
        this.steps = List.copyOf(steps);
    }

    @Override
    Pieces apply(Pieces in) {
        Pieces p = in;
        for (PreTokenizer s : steps) {
            p = s.apply(p);
        }
        return p;
    }

    @Override
    ByteLevelPreTokenizer finalByteLevel() {
        return steps.isEmpty() ? null : steps.get(steps.size() - 1).finalByteLevel();
    }

    @Override
    ObjectNode toJson(JsonNodeFactory f) {
        ObjectNode n = f.objectNode();
        n.put("type", "Sequence");
        ArrayNode arr = n.putArray("pretokenizers");
        steps.forEach(s -> arr.add(s.toJson(f)));
        return n;
    }
}
