package io.sparkseek.data.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Test inputs: the committed diverse fixture and seeded random strings from a varied code-point pool. */
final class TestTexts {
    /** Inclusive code-point ranges the random strings draw from, each a script or symbol block. */
    private static final int[][] BLOCKS = {
        {0x20, 0x7E}, {0x20, 0x7E}, {0x20, 0x7E}, {'a', 'z'}, {'a', 'z'}, {'0', '9'}, {0x09, 0x0D}, {0x80, 0xFF},
        {0x100, 0x24F}, {0x300, 0x36F}, {0x370, 0x3FF}, {0x400, 0x4FF}, {0x590, 0x5FF}, {0x600, 0x6FF},
        {0x900, 0x97F}, {0xE00, 0xE7F}, {0x1100, 0x11FF}, {0x2000, 0x206F}, {0x2070, 0x209F}, {0x20A0, 0x20BF},
        {0x2100, 0x218F}, {0x2190, 0x23FF}, {0x2460, 0x24FF}, {0x2500, 0x27BF}, {0x3000, 0x303F}, {0x3040, 0x30FF},
        {0x4E00, 0x9FFF}, {0x4E00, 0x9FA5}, {0xAC00, 0xD7A3}, {0xFE00, 0xFE0F}, {0xFF00, 0xFFEF},
        {0x1D400, 0x1D7FF}, {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x20000, 0x2A6D6}, {0x200B, 0x200D},
    };
    /** Single characters worth over-sampling: spaces, line breaks, ZWJ, NBSP, ideographic space, specials' parts. */
    private static final int[] SPICE = {' ', ' ', ' ', '\n', '\r', '\t', 0xA0, 0x3000, 0x2009, 0x200D, 0x85, 0x2028,
        0xFF5C, 0x2581, '<', '>', '|', '\'', '"', '.', ',', '!', '?', '-', '_'};
    private static final String[] SPECIALS = {"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>",
        "<|EOT|>", "<｜User｜>"};

    private TestTexts() {}

    static String diverse() {
        try (InputStream in = TestTexts.class.getResourceAsStream("/tokenizer/diverse.txt")) {
            if (in == null) {
                throw new IllegalStateException("missing test resource /tokenizer/diverse.txt");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The fixture whole, each paragraph, and each line with its line ending. */
    static List<String> diverseInputs() {
        String all = diverse();
        List<String> out = new ArrayList<>();
        out.add(all);
        out.addAll(List.of(all.split("\n\n")));
        int start = 0;
        for (int i = 0; i < all.length(); i++) {
            if (all.charAt(i) == '\n') {
                out.add(all.substring(start, i + 1));
                start = i + 1;
            }
        }
        return out;
    }

    /** One random code point that Java's Unicode tables define (so Java and Rust agree on its category). */
    static int randomCodePoint(SplittableRandom rnd) {
        while (true) {
            int cp;
            if (rnd.nextInt(4) == 0) {
                cp = SPICE[rnd.nextInt(SPICE.length)];
            } else {
                int[] b = BLOCKS[rnd.nextInt(BLOCKS.length)];
                cp = b[0] + rnd.nextInt(b[1] - b[0] + 1);
            }
            if (Character.isDefined(cp) && Character.getType(cp) != Character.SURROGATE
                    && Character.getType(cp) != Character.PRIVATE_USE) {
                return cp;
            }
        }
    }

    /** Random strings: runs from one block, mixed picks, occasional special-token text. */
    static List<String> randomStrings(long seed, int count, int maxCodePoints) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(count);
        for (int k = 0; k < count; k++) {
            StringBuilder sb = new StringBuilder();
            int n = 1 + rnd.nextInt(maxCodePoints);
            while (sb.codePointCount(0, sb.length()) < n) {
                int mode = rnd.nextInt(10);
                if (mode == 0) {
                    sb.append(SPECIALS[rnd.nextInt(SPECIALS.length)]);
                } else if (mode < 4) {
                    int[] b = BLOCKS[rnd.nextInt(BLOCKS.length)];
                    int run = 1 + rnd.nextInt(6);
                    for (int r = 0; r < run; r++) {
                        int cp = b[0] + rnd.nextInt(b[1] - b[0] + 1);
                        if (Character.isDefined(cp) && Character.getType(cp) != Character.PRIVATE_USE) {
                            sb.appendCodePoint(cp);
                        }
                    }
                } else {
                    sb.appendCodePoint(randomCodePoint(rnd));
                }
            }
            out.add(sb.toString());
        }
        return out;
    }

    /** Pseudo-English prose from a seeded syllable generator, with the fixture mixed in, about {@code chars} long. */
    static String corpus(long seed, int chars) {
        SplittableRandom rnd = new SplittableRandom(seed);
        String[] syllables = {"the", "an", "in", "er", "on", "at", "re", "ing", "st", "ou", "ed", "is", "or", "ti", "al",
            "ar", "te", "se", "ha", "ve", "ly", "de", "co", "pro", "con", "ment", "tion", "ble", "ness", "qu"};
        String[] seps = {" ", " ", " ", " ", ", ", ". ", ".\n", "\n\n", "; ", " (", ") ", " - ", "'s ", ": "};
        StringBuilder sb = new StringBuilder(chars + 100);
        String fixture = diverse();
        List<String> random = randomStrings(seed, 200, 30);
        while (sb.length() < chars) {
            int r = rnd.nextInt(100);
            if (r == 0) {
                sb.append(fixture);
            } else if (r < 3) {
                sb.append(random.get(rnd.nextInt(random.size())));
            } else if (r < 6) {
                sb.append(rnd.nextInt(100000));
            } else {
                int n = 1 + rnd.nextInt(3);
                for (int i = 0; i < n; i++) {
                    sb.append(syllables[rnd.nextInt(syllables.length)]);
                }
            }
            sb.append(seps[rnd.nextInt(seps.length)]);
        }
        return sb.toString();
    }

    /** A tokenizer trained on {@link #corpus} (NFC, DeepSeek-V3 pieces), default specials. */
    static BpeTokenizer trained(long seed, int corpusChars, int vocabSize) {
        return BpeTrainer.train(pieceCounts(corpus(seed, corpusChars)), TrainerOptions.defaults(vocabSize));
    }

    /** Piece counts of a text as the Spark job computes them: NFC, then DeepSeek-V3 pre-tokenization. */
    static java.util.Map<String, Long> pieceCounts(String text) {
        java.util.Map<String, Long> counts = new java.util.HashMap<>();
        for (String piece : PreTokenizer.deepSeekV3().split(
                java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFC))) {
            counts.merge(piece, 1L, Long::sum);
        }
        return counts;
    }
}
