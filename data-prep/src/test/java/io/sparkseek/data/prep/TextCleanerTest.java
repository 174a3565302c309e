package io.sparkseek.data.prep;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TextCleanerTest {

    @Test
    void normalisesLineBreaksControlsAndNfc() {
        // "e" + COMBINING ACUTE (U+0301) is NFC "é" (U+00E9); BEL, NUL, BOM and DEL are removed; tab kept
        String raw = "\uFEFF  Caf\u0065\u0301\u0007 bar\r\nbaz\rqux\u0000\tend\u007F \n\n";
        assertThat(TextCleaner.clean(raw)).isEqualTo("Caf\u00e9 bar\nbaz\nqux\tend");
    }

    @Test
    void keepsInnerWhitespaceAndNonControlUnicode() {
        String s = "a  b\n\n\nc\u00a0d \u3000e 😀 \u0645\u0631\u062d\u0628\u0627";
        assertThat(TextCleaner.clean(s)).isEqualTo(s);
    }

    @Test
    void onlyWhitespaceAndControlsBecomesEmpty() {
        assertThat(TextCleaner.clean(" \u0001\r\n\t \uFEFF")).isEmpty();
    }
}
