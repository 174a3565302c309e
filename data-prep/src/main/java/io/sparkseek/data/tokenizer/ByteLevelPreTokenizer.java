package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * HF {@code ByteLevel} pre-tokenizer: optionally prepends a space to every piece that does not start with one, and
 * optionally splits with GPT-2's regex. The byte-to-character mapping itself ({@link ByteLevel}) is applied by
 * {@link BpeTokenizer} when it encodes the pieces, so {@link PreTokenizer#split} returns text, not mapped bytes.
 */
final class ByteLevelPreTokenizer extends PreTokenizer {
    /** GPT-2's pre-tokenization regex (HF {@code ByteLevel} with {@code use_regex: true}). */
    static final String GPT2_REGEX =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private final boolean addPrefixSpace;
    private final boolean trimOffsets;
    private final boolean useRegex;
    private final SplitPreTokenizer gpt2;

    ByteLevelPreTokenizer(boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) {
        this.addPrefixSpace = addPrefixSpace;
        this.trimOffsets = trimOffsets;
        this.useRegex = useRegex;
        this.gpt2 = useRegex ? SplitPreTokenizer.regex(GPT2_REGEX, SplitBehavior.ISOLATED, false) : null;
    }

    @Override
    Pieces apply(Pieces in) {
        Pieces p = addPrefixSpace ? withPrefixSpaces(in) : in;
        return useRegex ? gpt2.apply(p) : p;
    }

    private static Pieces withPrefixSpaces(Pieces in) {
        StringBuilder sb = new StringBuilder(in.text.length() + in.count());
        int[] starts = new int[in.count()];
        for (int i = 0; i < in.count(); i++) {
            starts[i] = sb.length();
            if (in.text.charAt(in.start(i)) != ' ') {
                sb.append(' ');
            }
            sb.append(in.text, in.start(i), in.end(i));
        }
        Pieces out = new Pieces(sb.toString());
        for (int i = 0; i < starts.length; i++) {
            out.add(starts[i], i + 1 < starts.length ? starts[i + 1] : sb.length());
        }
        return out;
    }

    @Override
    ByteLevelPreTokenizer finalByteLevel() {
        return this;
    }

    @Override
    ObjectNode toJson(JsonNodeFactory f) {
        ObjectNode n = f.objectNode();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", addPrefixSpace);
        n.put("trim_offsets", trimOffsets);
        n.put("use_regex", useRegex);
        return n;
    }
}
