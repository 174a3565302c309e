package io.sparkseek.jobs.cli;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link Utf8Stream}: any chunking of any bytes gives the one-shot decode, and never half a character. */
class Utf8StreamTest {

    private static String streamed(byte[] bytes, Random rnd, StringBuilder pieces) {
        Utf8Stream s = new Utf8Stream();
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < bytes.length) {
            int n = Math.min(bytes.length - i, 1 + rnd.nextInt(4));
            String piece = s.feed(Arrays.copyOfRange(bytes, i, i + n));
            pieces.append(piece);
            out.append(piece);
            i += n;
        }
        return out.append(s.finish()).toString();
    }

    @Test
    void validTextIsNeverSplitMidCharacter() {
        String text = "naïve café — 日本語 ✓ 🙂 Straße";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Random rnd = new Random(1);
        for (int trial = 0; trial < 200; trial++) {
            StringBuilder pieces = new StringBuilder();
            assertThat(streamed(bytes, rnd, pieces)).isEqualTo(text);
            assertThat(pieces.toString()).as("no replacement character from a split").doesNotContain("\uFFFD");
        }
    }

    @Test
    void arbitraryBytesDecodeAsInOneShot() {
        Random rnd = new Random(2);
        byte[] alphabet = "aé日🙂".getBytes(StandardCharsets.UTF_8);
        for (int trial = 0; trial < 2000; trial++) {
            byte[] bytes = new byte[rnd.nextInt(12)];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = rnd.nextBoolean() ? alphabet[rnd.nextInt(alphabet.length)] : (byte) rnd.nextInt(256);
            }
            assertThat(streamed(bytes, rnd, new StringBuilder())).as("bytes %s", Arrays.toString(bytes))
                    .isEqualTo(new String(bytes, StandardCharsets.UTF_8));
        }
    }
}
