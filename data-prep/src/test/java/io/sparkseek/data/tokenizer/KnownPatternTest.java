package io.sparkseek.data.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The hand-written matchers of spec §10's patterns split exactly as java.util.regex does with the regex itself. */
class KnownPatternTest {
    private static final String[] PATTERNS = {PreTokenizer.DEEPSEEK_DIGITS, PreTokenizer.DEEPSEEK_CJK,
        PreTokenizer.DEEPSEEK_WORDS};

    private static List<String> inputs() {
        List<String> in = new ArrayList<>(TestTexts.diverseInputs());
        in.addAll(TestTexts.randomStrings(99, 5000, 40));
        SplittableRandom rnd = new SplittableRandom(4);
        String alphabet = " \t\r\n\u00a0\u3000a.é\u0301,1٣😀\u200d'_-漢かカ한";
        for (int k = 0; k < 5000; k++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + rnd.nextInt(12);
            for (int i = 0; i < n; i++) {
                sb.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0,
                        rnd.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            }
            in.add(sb.toString());
        }
        in.addAll(List.of("  \n  x", " \n", "\n ", "a  ", "  ", " ", "\r\n\r\n  \t", " !!\r\n\n", " a", "\u0301\u0301a"));
        return in;
    }

    @Test
    void sameSplitsAsTheRegex() {
        List<String> in = inputs();
        for (String pattern : PATTERNS) {
            assertThat(KnownPattern.of(pattern)).isNotNull();
            for (SplitBehavior b : SplitBehavior.values()) {
                SplitPreTokenizer fast = SplitPreTokenizer.regex(pattern, b, false);
                SplitPreTokenizer slow = fast.regexOnly();
                for (String s : in) {
                    assertThat(fast.split(s)).as("%s %s on %s", pattern, b, HfParityTest.escape(s))
                            .isEqualTo(slow.split(s));
                }
            }
        }
        assertThat(KnownPattern.of("\\s+")).isNull();
    }
}
