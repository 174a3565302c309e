package io.sparkseek.data.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parity with HuggingFace tokenizers (Rust, through node): ids with and without special tokens and decode, for
 * DeepSeek-V3's real tokenizer.json and for a tokenizer trained here and saved with {@link BpeTokenizer#toJson()}.
 */
class HfParityTest {
    private static final long SEED = 20261128L;
    private static final int RANDOM_STRINGS = 2500;
    private static final int MAX_RANDOM_CODE_POINTS = 60;
    private static final int TRAIN_CORPUS_CHARS = 400_000;
    private static final int TRAIN_VOCAB = 2000;

    private static List<String> inputs;

    @BeforeAll
    static void inputs() {
        inputs = new ArrayList<>(TestTexts.diverseInputs());
        inputs.addAll(TestTexts.randomStrings(SEED, RANDOM_STRINGS, MAX_RANDOM_CODE_POINTS));
        inputs.add("");
        inputs.add(" ".repeat(300) + "x" + "\n".repeat(50) + "y\t\t\t");
        inputs.add("a".repeat(2000));
    }

    @Test
    void deepSeekV3MatchesHf(@TempDir Path tmp) throws Exception {
        Path json = HfReference.deepSeekV3Json();
        BpeTokenizer tok = BpeTokenizer.load(json);
        assertThat(tok.vocabSize()).isEqualTo(128815);
        assertThat(tok.bosId()).isZero();
        assertThat(tok.eosId()).isEqualTo(1);
        assertThat(tok.padId()).isEqualTo(2);
        List<HfReference.Result> hf = HfReference.run(json, inputs, tmp);
        assertThat(hf.get(0).ids()).as("the fixture's literal EOS is matched as an added token").contains(1);
        assertThat(hf.get(0).idsSpecial()).as("DeepSeek-V3's ByteLevel post-processor adds no BOS")
                .isEqualTo(hf.get(0).ids());
        compare(tok, hf, "DeepSeek-V3");

        // toJson() of the loaded file is a tokenizer.json HF reads to the same encodings
        Path rewritten = tmp.resolve("deepseek-rewritten.json");
        Files.writeString(rewritten, tok.toJson());
        List<HfReference.Result> again = HfReference.run(rewritten, inputs, tmp);
        for (int i = 0; i < inputs.size(); i++) {
            assertThat(again.get(i).ids()).as("HF on our rewritten DeepSeek-V3 JSON, input %d", i)
                    .isEqualTo(hf.get(i).ids());
            assertThat(again.get(i).decoded()).isEqualTo(hf.get(i).decoded());
        }
    }

    @Test
    void trainedTokenizerMatchesHf(@TempDir Path tmp) throws Exception {
        String corpus = TestTexts.corpus(SEED, TRAIN_CORPUS_CHARS);
        Map<String, Long> counts = new HashMap<>();
        for (String piece : PreTokenizer.deepSeekV3().split(java.text.Normalizer.normalize(corpus,
                java.text.Normalizer.Form.NFC))) {
            counts.merge(piece, 1L, Long::sum);
        }
        BpeTokenizer tok = BpeTrainer.train(counts, TrainerOptions.defaults(TRAIN_VOCAB));
        assertThat(tok.vocabSize()).isEqualTo(TRAIN_VOCAB);
        Path json = tmp.resolve("tokenizer.json");
        Files.writeString(json, tok.toJson());
        BpeTokenizer reloaded = BpeTokenizer.load(json);
        assertThat(reloaded.toJson()).isEqualTo(tok.toJson());
        List<HfReference.Result> hf = HfReference.run(json, inputs, tmp);
        assertThat(hf.get(0).idsSpecial()[0]).as("the template prepends BOS").isZero();
        compare(reloaded, hf, "trained");
    }

    private static void compare(BpeTokenizer tok, List<HfReference.Result> hf, String name) {
        long comparedIds = 0;
        int mismatches = 0;
        String first = null;
        for (int i = 0; i < inputs.size(); i++) {
            String text = inputs.get(i);
            HfReference.Result want = hf.get(i);
            int[] ids = tok.encode(text, false);
            int[] idsSpecial = tok.encode(text, true);
            String decoded = tok.decode(want.ids());
            comparedIds += want.ids().length;
            String problem = null;
            if (!Arrays.equals(ids, want.ids())) {
                problem = "ids differ " + diff(tok, ids, want.ids());
            } else if (!Arrays.equals(idsSpecial, want.idsSpecial())) {
                problem = "ids with special tokens differ " + diff(tok, idsSpecial, want.idsSpecial());
            } else if (!decoded.equals(want.decoded())) {
                problem = "decode differs " + textDiff(decoded, want.decoded());
            }
            if (problem != null) {
                mismatches++;
                if (first == null) {
                    first = name + " input #" + i + " " + escape(text) + ": " + problem;
                }
            }
        }
        System.out.printf("HfParityTest %s: %d inputs, %d HF ids compared, %d mismatches%n", name, inputs.size(),
                comparedIds, mismatches);
        assertThat(comparedIds).isGreaterThan(inputs.size());
        assertThat(first).as("%s: %d of %d inputs differ from HF; first", name, mismatches, inputs.size()).isNull();
    }

    /** Where two strings first differ, with some context from both. */
    static String textDiff(String ours, String theirs) {
        final int context = 20;
        int k = 0;
        while (k < ours.length() && k < theirs.length() && ours.charAt(k) == theirs.charAt(k)) {
            k++;
        }
        int from = Math.max(0, k - context);
        return "at char " + k + ": ours " + escape(ours.substring(from, Math.min(ours.length(), k + context))) + " HF "
                + escape(theirs.substring(from, Math.min(theirs.length(), k + context)));
    }

    static String diff(BpeTokenizer tok, int[] ours, int[] theirs) {
        final int context = 4;
        int k = 0;
        while (k < ours.length && k < theirs.length && ours[k] == theirs[k]) {
            k++;
        }
        int from = Math.max(0, k - context);
        return "at index " + k + ": ours " + window(tok, ours, from, k + context) + " HF " + window(tok, theirs, from,
                k + context);
    }

    private static String window(BpeTokenizer tok, int[] ids, int from, int to) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = from; i < Math.min(to, ids.length); i++) {
            String token = ids[i] >= 0 && ids[i] < tok.vocabSize() ? tok.idToToken(ids[i]) : "?";
            sb.append(ids[i]).append('=').append(escape(token)).append(' ');
        }
        return sb.append("] (length ").append(ids.length).append(')').toString();
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || Character.isWhitespace(cp) && cp != ' '
                    || Character.getType(cp) == Character.FORMAT) {
                sb.append(String.format("\\u%04X", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.append('"').toString();
    }
}
