package io.sparkseek.jobs.cli;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a stream of byte chunks (one token's bytes at a time) into text without splitting a multi-byte UTF-8
 * character: an incomplete sequence at the end of what has arrived is held back until its remaining bytes come.
 * Invalid bytes become U+FFFD, as in a one-shot decode. Not thread-safe.
 */
final class Utf8Stream {
    private byte[] pending = new byte[0];

    /** The text completed by {@code bytes} (possibly empty). */
    String feed(byte[] bytes) {
        byte[] buf = Arrays.copyOf(pending, pending.length + bytes.length);
        System.arraycopy(bytes, 0, buf, pending.length, bytes.length);
        int len = buf.length;
        int cut = len;
        // Look back over at most 3 bytes for the lead byte of the last sequence; hold it if it is incomplete.
        for (int k = 1; k <= Math.min(3, len); k++) {
            int b = buf[len - k] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue;   // continuation byte
            }
            int need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            if (need > k) {
                cut = len - k;
            }
            break;
        }
        pending = Arrays.copyOfRange(buf, cut, len);
        return new String(buf, 0, cut, StandardCharsets.UTF_8);
    }

    /** Whatever is still held (an incomplete sequence, as U+FFFD), then empty. */
    String finish() {
        String s = new String(pending, StandardCharsets.UTF_8);
        pending = new byte[0];
        return s;
    }
}
