package io.sparkseek.data.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parity with HF tokenizers for the pipeline options DeepSeek-V3 does not use: each Split behavior with and without
 * invert, String patterns, Digits, ByteLevel with prefix space and GPT-2 regex, NFKC, added tokens with
 * lstrip/rstrip/single_word/normalized, {@code ignore_merges}, and merges written as [a, b] arrays. Each variant is a small trained tokenizer.json with one part replaced.
 */
class HfVariantsParityTest {
    private static final long SEED = 7L;
    private static final int RANDOM_STRINGS = 400;
    private static final int TRAIN_VOCAB = 600;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void variantsMatchHf(@TempDir Path tmp) throws Exception {
        BpeTokenizer base = TestTexts.trained(SEED, 100_000, TRAIN_VOCAB);
        List<String> inputs = new ArrayList<>(TestTexts.diverseInputs());
        inputs.addAll(TestTexts.randomStrings(SEED, RANDOM_STRINGS, 40));
        inputs.addAll(List.of("x <mask> y", "x<mask>y", "word<mask> <end>x<end> y", "  <mask>  tail", "[SEP]a [SEP] b[SEP]",
                "a_<mask>_b", "ﬁ<mask>ﬁ", "ab12c3 4 5678 ٣٤ ²", ""));
        List<String> failures = new ArrayList<>();
        int variant = 0;
        for (String split : List.of("Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous")) {
            for (boolean invert : new boolean[] {false, true}) {
                check(base, preTokenizer(splitStep("{\"Regex\": \"\\\\s+|[0-9]\"}", split, invert)), inputs, tmp,
                        variant++, failures);
                check(base, preTokenizer(splitStep("{\"String\": \"a\"}", split, invert)), inputs, tmp, variant++, failures);
            }
        }
        check(base, preTokenizer("{\"type\": \"Digits\", \"individual_digits\": true}"), inputs, tmp, variant++, failures);
        check(base, preTokenizer("{\"type\": \"Digits\", \"individual_digits\": false}"), inputs, tmp, variant++,
                failures);
        for (boolean prefix : new boolean[] {false, true}) {
            for (boolean regex : new boolean[] {false, true}) {
                ObjectNode root = root(base);
                root.set("pre_tokenizer", MAPPER.readTree("{\"type\": \"ByteLevel\", \"add_prefix_space\": " + prefix
                        + ", \"trim_offsets\": true, \"use_regex\": " + regex + "}"));
                check(base, root, inputs, tmp, variant++, failures);
            }
        }
        ObjectNode nfkc = root(base);
        nfkc.set("normalizer", MAPPER.readTree("{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFKC\"}]}"));
        addToken(nfkc, TRAIN_VOCAB, "ﬁ", false, false, false, true);
        check(base, nfkc, inputs, tmp, variant++, failures);
        ObjectNode added = root(base);
        addToken(added, TRAIN_VOCAB, "<mask>", true, true, false, false);
        addToken(added, TRAIN_VOCAB + 1, "[SEP]", false, false, true, false);
        addToken(added, TRAIN_VOCAB + 2, "<end>", false, false, false, true);
        addToken(added, TRAIN_VOCAB + 3, "[SEP]a", false, false, false, false);
        check(base, added, inputs, tmp, variant++, failures);
        ObjectNode single = root(base);
        addToken(single, TRAIN_VOCAB, "<mask>", false, false, false, false);
        ((ObjectNode) single.get("added_tokens").get(single.get("added_tokens").size() - 1)).put("single_word", true);
        addToken(single, base.tokenToId("b").getAsInt(), "b", false, false, false, false);
        ((ObjectNode) single.get("added_tokens").get(single.get("added_tokens").size() - 1)).put("single_word", true);
        check(base, single, inputs, tmp, variant++, failures);
        ObjectNode ignoreMerges = root(base);
        ((ObjectNode) ignoreMerges.get("model")).put("ignore_merges", true);
        check(base, ignoreMerges, inputs, tmp, variant++, failures);
        ObjectNode arrayMerges = root(base);
        ArrayNode pairs = MAPPER.createArrayNode();
        arrayMerges.get("model").get("merges").forEach(m -> {
            String[] ab = m.asText().split(" ");
            pairs.addArray().add(ab[0]).add(ab[1]);
        });
        ((ObjectNode) arrayMerges.get("model")).set("merges", pairs);
        check(base, arrayMerges, inputs, tmp, variant++, failures);
        assertThat(failures).as("variants differing from HF").isEmpty();
    }

    private static String splitStep(String pattern, String behavior, boolean invert) {
        return "{\"type\": \"Split\", \"pattern\": " + pattern + ", \"behavior\": \"" + behavior + "\", \"invert\": "
                + invert + "}";
    }

    private ObjectNode root(BpeTokenizer base) throws Exception {
        return (ObjectNode) MAPPER.readTree(base.toJson());
    }

    private ObjectNode preTokenizer(String firstStep) throws Exception {
        ObjectNode root = (ObjectNode) MAPPER.readTree(TestTexts.trained(SEED, 100_000, TRAIN_VOCAB).toJson());
        root.set("pre_tokenizer", MAPPER.readTree("{\"type\": \"Sequence\", \"pretokenizers\": [" + firstStep
                + ", {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}]}"));
        return root;
    }

    private static void addToken(ObjectNode root, int id, String content, boolean lstrip, boolean rstrip,
            boolean special, boolean normalized) {
        ObjectNode t = ((ArrayNode) root.get("added_tokens")).addObject();
        t.put("id", id).put("content", content).put("single_word", false).put("lstrip", lstrip).put("rstrip", rstrip)
                .put("normalized", normalized).put("special", special);
    }

    private static void check(BpeTokenizer base, ObjectNode root, List<String> inputs, Path tmp, int variant,
            List<String> failures) throws Exception {
        Path json = tmp.resolve("variant" + variant + ".json");
        Files.writeString(json, MAPPER.writeValueAsString(root));
        BpeTokenizer ours = BpeTokenizer.load(json);
        List<HfReference.Result> hf = HfReference.run(json, inputs, tmp);
        for (int i = 0; i < inputs.size(); i++) {
            int[] ids = ours.encode(inputs.get(i), false);
            int[] special = ours.encode(inputs.get(i), true);
            String decoded = ours.decode(hf.get(i).ids());
            if (!Arrays.equals(ids, hf.get(i).ids()) || !Arrays.equals(special, hf.get(i).idsSpecial())
                    || !decoded.equals(hf.get(i).decoded())) {
                String what = !Arrays.equals(ids, hf.get(i).ids()) ? HfParityTest.diff(ours, ids, hf.get(i).ids())
                        : !Arrays.equals(special, hf.get(i).idsSpecial()) ? HfParityTest.diff(ours, special, hf.get(i).idsSpecial())
                        : "decode " + HfParityTest.textDiff(decoded, hf.get(i).decoded());
                failures.add("variant " + variant + " input #" + i + " " + HfParityTest.escape(inputs.get(i).length() > 80
                        ? inputs.get(i).substring(0, 80) + "..." : inputs.get(i)) + ": " + what);
                return;
            }
        }
    }
}
