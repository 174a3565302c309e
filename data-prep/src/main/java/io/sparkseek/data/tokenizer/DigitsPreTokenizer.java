package io.sparkseek.data.tokenizer;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * HF {@code Digits} pre-tokenizer: numeric characters (Rust {@code char::is_numeric}: categories Nd, Nl, No) are split
 * off, each on its own ({@code individual_digits}) or as contiguous runs.
 */
final class DigitsPreTokenizer extends PreTokenizer {
    private final boolean individualDigits;

    DigitsPreTokenizer(boolean individualDigits) {
        this.individualDigits = individualDigits;
    }

    private static boolean isNumeric(int cp) {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    @Override
    Pieces apply(Pieces in) {
        Pieces out = new Pieces(in.text);
        String s = in.text;
        for (int i = 0; i < in.count(); i++) {
            int pieceStart = in.start(i);
            int runKind = -1; // -1 none yet, 0 non-digit run, 1 digit run
            for (int j = in.start(i); j < in.end(i); ) {
                int cp = s.codePointAt(j);
                int len = Character.charCount(cp);
                int kind = isNumeric(cp) ? 1 : 0;
                boolean cut = runKind >= 0 && (kind != runKind || (kind == 1 && individualDigits));
                if (cut) {
                    out.add(pieceStart, j);
                    pieceStart = j;
                }
                runKind = kind;
                j += len;
            }
            out.add(pieceStart, in.end(i));
        }
        return out;
    }

    @Override
    ObjectNode toJson(JsonNodeFactory f) {
        ObjectNode n = f.objectNode();
        n.put("type", "Digits");
        n.put("individual_digits", individualDigits);
        return n;
    }
}
