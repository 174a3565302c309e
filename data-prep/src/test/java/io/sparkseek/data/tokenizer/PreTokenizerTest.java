package io.sparkseek.data.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PreTokenizerTest {
    @Test
    void deepSeekV3SplitsAsSpecSection10Says() {
        PreTokenizer pre = PreTokenizer.deepSeekV3();
        // digits in threes, a space before a word stays with it, a lone space before a digit is its own piece
        assertThat(pre.split("Hello world 1234567 3.14"))
                .containsExactly("Hello", " world", " ", "123", "456", "7", " ", "3", ".", "14");
        // CJK/kana runs are isolated; an ASCII punctuation char glues to a Latin word; punctuation keeps line breaks
        assertThat(pre.split("日本語のテキスト.Net!!\n\nok")).containsExactly("日本語のテキスト", ".Net", "!!\n\n", "ok");
        // whitespace before a word: all but the last space, which the word takes
        assertThat(pre.split("a   b\t\n c")).containsExactly("a", "  ", " b", "\t\n", " c");
        assertThat(pre.split("")).isEmpty();
    }

    @Test
    void jsonRoundTrip() {
        PreTokenizer pre = PreTokenizer.deepSeekV3();
        PreTokenizer again = PreTokenizer.fromJson(pre.toJsonString());
        assertThat(again.toJsonString()).isEqualTo(pre.toJsonString());
        String text = TestTexts.diverse();
        assertThat(again.split(text)).isEqualTo(pre.split(text));
    }

    @Test
    void otherTypesAreErrors() {
        assertThatThrownBy(() -> PreTokenizer.fromJson("{\"type\": \"Whitespace\"}"))
                .hasMessageContaining("unsupported pre_tokenizer type 'Whitespace'");
        assertThatThrownBy(() -> PreTokenizer.fromJson("{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(\"},"
                + " \"behavior\": \"Isolated\"}")).hasMessageContaining("does not compile");
        assertThatThrownBy(() -> PreTokenizer.fromJson("{")).hasMessageContaining("not valid JSON");
    }

    @Test
    void digitsAndByteLevelOptions() {
        assertThat(PreTokenizer.fromJson("{\"type\": \"Digits\", \"individual_digits\": true}").split("ab12c"))
                .isEqualTo(List.of("ab", "1", "2", "c"));
        assertThat(PreTokenizer.fromJson("{\"type\": \"ByteLevel\", \"add_prefix_space\": true}").split("Hi there!"))
                .isEqualTo(List.of(" Hi", " there", "!"));
    }
}
