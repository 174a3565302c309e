package io.sparkseek.data.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RoundTripTest {
    private static final int TRIALS = 3000;
    private static BpeTokenizer deepSeek;
    private static BpeTokenizer trained;

    @BeforeAll
    static void load() {
        deepSeek = BpeTokenizer.load(HfReference.deepSeekV3Json());
        trained = TestTexts.trained(9, 100_000, 800);
    }

    /** Random bytes: mostly valid UTF-8 with invalid bytes, truncated sequences and surrogate encodings mixed in. */
    private static byte[] randomBytes(SplittableRandom rnd) {
        int kind = rnd.nextInt(3);
        if (kind == 0) {
            byte[] b = new byte[rnd.nextInt(64)];
            rnd.nextBytes(b);
            return b;
        }
        StringBuilder sb = new StringBuilder();
        int n = rnd.nextInt(30);
        for (int i = 0; i < n; i++) {
            sb.appendCodePoint(TestTexts.randomCodePoint(rnd));
        }
        byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
        if (kind == 2 && b.length > 0) {
            byte[][] junk = {{(byte) 0xFF}, {(byte) 0xC0, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                {(byte) 0xE2, (byte) 0x82}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0x80}};
            byte[] j = junk[rnd.nextInt(junk.length)];
            int at = rnd.nextInt(b.length + 1);
            byte[] out = new byte[b.length + j.length];
            System.arraycopy(b, 0, out, 0, at);
            System.arraycopy(j, 0, out, at, j.length);
            System.arraycopy(b, at, out, at + j.length, b.length - at);
            return out;
        }
        return b;
    }

    @Test
    void anyBytesRoundTrip() {
        SplittableRandom rnd = new SplittableRandom(42);
        for (BpeTokenizer tok : List.of(deepSeek, trained)) {
            for (int t = 0; t < TRIALS; t++) {
                byte[] b = randomBytes(rnd);
                assertThat(tok.decodeBytes(tok.encodeBytes(b))).as("bytes %s", Arrays.toString(b)).isEqualTo(b);
            }
        }
    }

    @Test
    void validUtf8BytesEncodeLikeTheString() {
        for (String s : TestTexts.randomStrings(5, 500, 40)) {
            assertThat(deepSeek.encodeBytes(s.getBytes(StandardCharsets.UTF_8))).isEqualTo(deepSeek.encodeOrdinary(s));
        }
    }

    @Test
    void stringsRoundTripThroughOrdinaryEncoding() {
        for (String s : TestTexts.randomStrings(6, TRIALS, 50)) {
            assertThat(deepSeek.decode(deepSeek.encodeOrdinary(s))).isEqualTo(s);
            String nfc = java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFC);
            assertThat(trained.decode(trained.encodeOrdinary(s))).isEqualTo(nfc);
        }
    }

    @Test
    void literalSpecialTokensStayTextInOrdinaryEncoding() {
        String doc = "end" + BpeTokenizer.EOS_TOKEN + "next" + BpeTokenizer.BOS_TOKEN;
        int[] ids = deepSeek.encodeOrdinary(doc);
        assertThat(ids).doesNotContain(0, 1);
        assertThat(deepSeek.decode(ids)).isEqualTo(doc);
        assertThat(deepSeek.encode(doc, false)).contains(0, 1);
    }

    @Test
    void invalidUtf8DecodesToReplacementCharacters() {
        int[] ids = deepSeek.encodeBytes(new byte[] {'a', (byte) 0xE2, (byte) 0x82, 'b', (byte) 0xFF});
        assertThat(deepSeek.decode(ids)).isEqualTo("a\uFFFDb\uFFFD");
    }

    @Test
    void concurrentEncodingEqualsSequential() throws Exception {
        List<String> texts = TestTexts.randomStrings(8, 400, 60);
        List<int[]> want = texts.stream().map(deepSeek::encodeOrdinary).toList();
        final int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    for (int rep = 0; rep < 5; rep++) {
                        for (int i = 0; i < texts.size(); i++) {
                            if (!Arrays.equals(deepSeek.encodeOrdinary(texts.get(i)), want.get(i))) {
                                return false;
                            }
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) {
                assertThat(f.get()).isTrue();
            }
        } finally {
            pool.shutdown();
        }
    }
}
