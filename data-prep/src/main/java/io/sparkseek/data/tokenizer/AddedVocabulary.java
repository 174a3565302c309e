package io.sparkseek.data.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Finds added tokens in text the way HF's {@code AddedVocabulary::find_matches} does: leftmost match, longest at that
 * position (Aho-Corasick {@code LeftmostLongest}), then {@code single_word} (skip a match touching a word character
 * {@code \w}), {@code lstrip} (absorb whitespace before it, not before the previous match's end) and {@code rstrip}
 * (absorb whitespace after it). One instance covers one set: the raw-text ({@code normalized=false}) tokens or the
 * normalized-text ones.
 */
final class AddedVocabulary {
    private static final Pattern WORD_CHAR = Pattern.compile("\\w", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern SPACE = Pattern.compile("\\s", Pattern.UNICODE_CHARACTER_CLASS);

    /** A character trie; terminal nodes carry the token. */
    private static final class Node {
        final Map<Character, Node> next = new HashMap<>();
        AddedToken token;
    }

    private final Node root = new Node();
    private final boolean empty;

    /**
     * @param normalizer applied to each token's content to get the text it matches ({@code normalized} tokens are
     *     matched in normalized text, so HF normalizes their content too), or the identity for raw-text tokens
     */
    AddedVocabulary(List<AddedToken> tokens, java.util.function.UnaryOperator<String> normalizer) {
        for (AddedToken t : tokens) {
            String pattern = normalizer.apply(t.content());
            Node n = root;
            for (int i = 0; i < pattern.length(); i++) {
                n = n.next.computeIfAbsent(pattern.charAt(i), c -> new Node());
            }
            n.token = t;
        }
        this.empty = root.next.isEmpty();
    }

    /** A span of the text: an added token's id over [start, end), or id -1 for text between matches. */
    record Span(int id, int start, int end) {}

    /** Splits {@code text} into added-token spans and the text between them (empty text gives no spans). */
    List<Span> split(String text) {
        List<Span> out = new ArrayList<>();
        int startOffset = 0;
        int i = 0;
        while (!empty && i < text.length()) {
            AddedToken tok = null;
            int stop = i;
            Node n = root;
            for (int j = i; j < text.length(); j++) {
                n = n.next.get(text.charAt(j));
                if (n == null) {
                    break;
                }
                if (n.token != null) {
                    tok = n.token;
                    stop = j + 1;
                }
            }
            if (tok == null) {
                i++;
                continue;
            }
            int start = i;
            i = stop;
            if (tok.singleWord() && (wordCharBefore(text, start) || wordCharAt(text, stop))) {
                continue;
            }
            if (tok.lstrip()) {
                int s = start;
                while (s > 0 && isSpace(text, s - 1)) {
                    s--;
                }
                start = Math.max(s, startOffset);
            }
            if (tok.rstrip()) {
                while (stop < text.length() && isSpace(text, stop)) {
                    stop++;
                }
            }
            if (startOffset < start) {
                out.add(new Span(-1, startOffset, start));
            }
            out.add(new Span(tok.id(), start, stop));
            startOffset = stop;
            i = Math.max(i, stop);
        }
        if (startOffset < text.length()) {
            out.add(new Span(-1, startOffset, text.length()));
        }
        return out;
    }

    private static boolean isSpace(String text, int at) {
        return SPACE.matcher(text).region(at, at + 1).matches();
    }

    private static boolean wordCharBefore(String text, int at) {
        if (at == 0) {
            return false;
        }
        int cp = text.codePointBefore(at);
        return WORD_CHAR.matcher(new String(Character.toChars(cp))).matches();
    }

    private static boolean wordCharAt(String text, int at) {
        if (at >= text.length()) {
            return false;
        }
        int cp = text.codePointAt(at);
        return WORD_CHAR.matcher(new String(Character.toChars(cp))).matches();
    }
}
