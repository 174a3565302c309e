package io.sparkseek.data.prep;

import java.text.Normalizer;

/**
 * The text normalisation every document goes through before dedup and tokenization (rule set "nfc-controls/1",
 * recorded in the manifest's settings so an incremental run cannot mix rules):
 * <ol>
 *   <li>line breaks {@code \r\n} and lone {@code \r} become {@code \n};</li>
 *   <li>control characters (Unicode category Cc) other than {@code \n} and {@code \t} are removed, and so are
 *       U+FEFF (byte-order mark) and the noncharacters U+FFFE/U+FFFF;</li>
 *   <li>Unicode NFC;</li>
 *   <li>leading and trailing whitespace of the whole document is stripped (inner whitespace is kept: it is
 *       information the byte-level tokenizer models).</li>
 * </ol>
 * A document that is empty afterwards is dropped by the caller and counted.
 */
public final class TextCleaner {
    /** The name of this rule set, stored in the manifest. */
    public static final String RULES = "nfc-controls/1";

    private TextCleaner() {
    }

    /** The cleaned text (possibly empty). */
    public static String clean(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c == '\r') {
                sb.append('\n');
                if (i + 1 < n && text.charAt(i + 1) == '\n') {
                    i++;
                }
            } else if (c == '\n' || c == '\t') {
                sb.append(c);
            } else if (Character.getType(c) == Character.CONTROL || c == '\uFEFF' || c == '\uFFFE' || c == '\uFFFF') {
                continue;
            } else {
                sb.append(c);
            }
        }
        String nfc = Normalizer.isNormalized(sb, Normalizer.Form.NFC)
                ? sb.toString() : Normalizer.normalize(sb, Normalizer.Form.NFC);
        return nfc.strip();
    }
}
