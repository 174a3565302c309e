package io.sparkseek.data.tokenizer;

/**
 * Hand-written matchers for spec §10's three DeepSeek-V3 pre-tokenizer regexes, used instead of
 * {@link java.util.regex.Pattern} when a {@code Split} carries exactly one of these sources (pre-tokenization is most
 * of the encoding time, and the third pattern's alternation is slow in a backtracking engine). Each gives, at a start
 * position, the end of the leftmost-first match the regex would find there, or -1. KnownPatternTest compares them
 * with java.util.regex on random text, HfParityTest with HF itself.
 *
 * <p>Character classes follow Oniguruma/Java general categories: L letters, M marks, N numbers, P punctuation, S
 * symbols; {@code \s} is the Unicode White_Space property.
 */
enum KnownPattern {
    /** {@code \p{N}{1,3}}. */
    DIGITS(PreTokenizer.DEEPSEEK_DIGITS) {
        @Override
        int matchAt(String s, int p, int to) {
            int e = p;
            for (int k = 0; k < MAX_DIGITS && e < to; k++) {
                int cp = s.codePointAt(e);
                if (!is(cp, N)) {
                    break;
                }
                e += Character.charCount(cp);
            }
            return e > p ? e : -1;
        }
    },
    /** {@code [一-龥぀-ゟ゠-ヿ]+}: CJK ideographs U+4E00..U+9FA5, Hiragana U+3040..U+309F, Katakana U+30A0..U+30FF. */
    CJK(PreTokenizer.DEEPSEEK_CJK) {
        @Override
        int matchAt(String s, int p, int to) {
            int e = p;
            while (e < to && isCjk(s.charAt(e))) {
                e++;
            }
            return e > p ? e : -1;
        }
    },
    /** The words / punctuation / line-break / whitespace alternation, alternative by alternative. */
    WORDS(PreTokenizer.DEEPSEEK_WORDS) {
        @Override
        int matchAt(String s, int p, int to) {
            int c0 = s.codePointAt(p);
            int p1 = p + Character.charCount(c0);
            int c1 = p1 < to ? s.codePointAt(p1) : -1;
            // [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+
            if (isAsciiPunct(c0) && isAsciiLetter(c1)) {
                int e = p1;
                while (e < to && isAsciiLetter(s.charAt(e))) {
                    e++;
                }
                return e;
            }
            // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
            if (c0 != '\r' && c0 != '\n' && !is(c0, L | P | S) && c1 >= 0 && is(c1, L | M)) {
                return run(s, p1, to, L | M);
            }
            if (is(c0, L | M)) {
                return run(s, p, to, L | M);
            }
            // ' ?[\p{P}\p{S}]+[\r\n]*'
            if (c0 == ' ' && c1 >= 0 && is(c1, P | S)) {
                return lineBreaks(s, run(s, p1, to, P | S), to);
            }
            if (is(c0, P | S)) {
                return lineBreaks(s, run(s, p, to, P | S), to);
            }
            if (!is(c0, WS)) {
                return -1;
            }
            int e = run(s, p, to, WS); // whitespace is all in the BMP: one char per code point
            // \s*[\r\n]+ : up to and including the run's last line break
            for (int k = e - 1; k >= p; k--) {
                if (s.charAt(k) == '\r' || s.charAt(k) == '\n') {
                    return k + 1;
                }
            }
            // \s+(?!\S) : all of it at the end, else all but the last one; then \s+
            if (e == to || e - 1 > p) {
                return e == to ? e : e - 1;
            }
            return e;
        }
    };

    private static final int MAX_DIGITS = 3;
    private static final int L = 1;
    private static final int M = 2;
    private static final int N = 4;
    private static final int P = 8;
    private static final int S = 16;
    private static final int WS = 32;
    private static final int BMP = 0x10000;
    /** Class bits of every BMP character. */
    private static final byte[] BMP_CLASSES = new byte[BMP];

    static {
        for (int c = 0; c < BMP; c++) {
            BMP_CLASSES[c] = (byte) classify(c);
        }
    }

    private final String source;

    KnownPattern(String source) {
        this.source = source;
    }

    /** The matcher for a regex source, or null when it is not one of spec §10's patterns. */
    static KnownPattern of(String regex) {
        for (KnownPattern k : values()) {
            if (k.source.equals(regex)) {
                return k;
            }
        }
        return null;
    }

    /** The end of the match starting at {@code p} (before {@code to}), or -1 when none starts there. */
    abstract int matchAt(String s, int p, int to);

    private static int classify(int cp) {
        int bits = 0;
        switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                    Character.MODIFIER_LETTER, Character.OTHER_LETTER -> bits |= L;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> bits |= M;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> bits |= N;
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> bits |= P;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                    Character.OTHER_SYMBOL -> bits |= S;
            default -> { }
        }
        return isWhiteSpace(cp) ? bits | WS : bits;
    }

    /** The Unicode White_Space property (what {@code \s} matches in Oniguruma and in Java's Unicode mode). */
    private static boolean isWhiteSpace(int c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }

    static boolean is(int cp, int classes) {
        int bits = cp < BMP ? BMP_CLASSES[cp] : classify(cp);
        return (bits & classes) != 0;
    }

    private static boolean isCjk(char c) {
        return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x3040 && c <= 0x30FF);
    }

    private static boolean isAsciiLetter(int c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }

    private static boolean isAsciiPunct(int c) {
        return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60)
                || (c >= 0x7B && c <= 0x7E);
    }

    /** End of the run of code points in {@code classes} from p. */
    private static int run(String s, int p, int to, int classes) {
        int e = p;
        while (e < to) {
            int cp = s.codePointAt(e);
            if (!is(cp, classes)) {
                break;
            }
            e += Character.charCount(cp);
        }
        return e;
    }

    private static int lineBreaks(String s, int p, int to) {
        int e = p;
        while (e < to && (s.charAt(e) == '\r' || s.charAt(e) == '\n')) {
            e++;
        }
        return e;
    }
}
