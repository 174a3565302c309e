package io.sparkseek.data.prep;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import static org.assertj.core.api.Assertions.assertThat;

class DocDigestTest {

    @Test
    void usesTheFirstSixteenBytesOfSha256() throws Exception {
        String text = "The Fulton County Grand Jury said Friday";
        byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        DocDigest digest = DocDigest.of(text);
        assertThat(digest.contentHash()).isEqualTo(ByteBuffer.wrap(d).getLong(0));
        double u = (ByteBuffer.wrap(d).getLong(8) >>> 11) / Math.pow(2, 53);
        assertThat(digest.splitValue()).isEqualTo(u);
    }

    @Test
    void splitShareIsCloseToTheFraction() {
        int val = 0;
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            if (DocDigest.of("document number " + i).isVal(0.1)) {
                val++;
            }
        }
        // binomial(20000, 0.1): sd ~ 42; 5 sd
        assertThat(val).isBetween(2000 - 212, 2000 + 212);
    }
}
