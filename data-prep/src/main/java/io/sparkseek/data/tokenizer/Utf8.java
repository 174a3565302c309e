package io.sparkseek.data.tokenizer;

/** Strict UTF-8 validation (no overlong forms, no surrogates, nothing above U+10FFFF), byte by byte. */
final class Utf8 {
    private static final int CONTINUATION_MASK = 0xC0;
    private static final int CONTINUATION_TAG = 0x80;

    private Utf8() {}

    /** The length (1-4) of the valid UTF-8 sequence starting at {@code i}, or 0 when the byte there starts none. */
    static int validSequenceLength(byte[] b, int i, int end) {
        int b0 = b[i] & 0xFF;
        if (b0 < 0x80) {
            return 1;
        }
        int len;
        int lo = 0x80;
        int hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            len = 2;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            len = 3;
            if (b0 == 0xE0) {
                lo = 0xA0; // no overlong 3-byte forms
            } else if (b0 == 0xED) {
                hi = 0x9F; // no UTF-16 surrogates
            }
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            len = 4;
            if (b0 == 0xF0) {
                lo = 0x90; // no overlong 4-byte forms
            } else if (b0 == 0xF4) {
                hi = 0x8F; // nothing above U+10FFFF
            }
        } else {
            return 0;
        }
        if (i + len > end) {
            return 0;
        }
        int b1 = b[i + 1] & 0xFF;
        if (b1 < lo || b1 > hi) {
            return 0;
        }
        for (int k = 2; k < len; k++) {
            if ((b[i + k] & CONTINUATION_MASK) != CONTINUATION_TAG) {
                return 0;
            }
        }
        return len;
    }
}
