package io.sparkseek.data.tokenizer;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad tokenizer.json documents fail with messages naming the bad part. */
class TokenizerErrorsTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static String good;

    @BeforeAll
    static void train() {
        good = TestTexts.trained(1, 20_000, 300).toJson();
    }

    private static String edited(Consumer<ObjectNode> edit) throws Exception {
        ObjectNode root = (ObjectNode) MAPPER.readTree(good);
        edit.accept(root);
        return MAPPER.writeValueAsString(root);
    }

    @Test
    void malformedJson() {
        assertThatThrownBy(() -> BpeTokenizer.fromJson("{\"model\": ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> BpeTokenizer.fromJson("[1, 2]")).hasMessageContaining("must be a JSON object");
    }

    @Test
    void unsupportedModelType() throws Exception {
        String json = edited(r -> ((ObjectNode) r.get("model")).put("type", "WordPiece"));
        assertThatThrownBy(() -> BpeTokenizer.fromJson(json)).hasMessageContaining("unsupported model type 'WordPiece'");
    }

    @Test
    void unsupportedPreTokenizer() throws Exception {
        String json = edited(r -> r.putObject("pre_tokenizer").put("type", "Metaspace"));
        assertThatThrownBy(() -> BpeTokenizer.fromJson(json))
                .hasMessageContaining("unsupported pre_tokenizer type 'Metaspace'");
        String noByteLevel = edited(r -> r.putObject("pre_tokenizer").put("type", "Digits"));
        assertThatThrownBy(() -> BpeTokenizer.fromJson(noByteLevel)).hasMessageContaining("must end with a ByteLevel");
    }

    @Test
    void missingOrBadMerges() throws Exception {
        String missing = edited(r -> ((ObjectNode) r.get("model")).remove("merges"));
        assertThatThrownBy(() -> BpeTokenizer.fromJson(missing)).hasMessageContaining("model.merges is missing");
        String bad = edited(r -> ((ObjectNode) r.get("model")).putArray("merges").add("a b c"));
        assertThatThrownBy(() -> BpeTokenizer.fromJson(bad)).hasMessageContaining("model.merges[0] = 'a b c'");
        String unknown = edited(r -> ((ObjectNode) r.get("model")).putArray("merges").add("a qqq"));
        assertThatThrownBy(() -> BpeTokenizer.fromJson(unknown)).hasMessageContaining("'qqq', which is not in");
    }

    @Test
    void otherUnsupportedParts() throws Exception {
        String normalizer = edited(r -> r.putObject("normalizer").put("type", "Lowercase"));
        assertThatThrownBy(() -> BpeTokenizer.fromJson(normalizer))
                .hasMessageContaining("unsupported normalizer type 'Lowercase'");
        String decoder = edited(r -> r.putObject("decoder").put("type", "Metaspace"));
        assertThatThrownBy(() -> BpeTokenizer.fromJson(decoder)).hasMessageContaining("unsupported decoder");
        String post = edited(r -> r.putObject("post_processor").put("type", "RobertaProcessing"));
        assertThatThrownBy(() -> BpeTokenizer.fromJson(post))
                .hasMessageContaining("unsupported post_processor type 'RobertaProcessing'");
        String behavior = edited(r -> r.set("pre_tokenizer", json("{\"type\": \"Sequence\", \"pretokenizers\": ["
                + "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"a\"}, \"behavior\": \"Sideways\", \"invert\": false},"
                + "{\"type\": \"ByteLevel\"}]}")));
        assertThatThrownBy(() -> BpeTokenizer.fromJson(behavior)).hasMessageContaining("Split behavior 'Sideways'");
        String dropout = edited(r -> ((ObjectNode) r.get("model")).put("dropout", 0.1));
        assertThatThrownBy(() -> BpeTokenizer.fromJson(dropout)).hasMessageContaining("model.dropout=0.1");
        String truncation = edited(r -> r.putObject("truncation").put("max_length", 5));
        assertThatThrownBy(() -> BpeTokenizer.fromJson(truncation)).hasMessageContaining("\"truncation\" is set");
    }

    @Test
    void missingFileAndMissingSpecials() {
        Path nowhere = Path.of("/nonexistent/tokenizer.json");
        assertThatThrownBy(() -> BpeTokenizer.load(nowhere)).hasMessageContaining("/nonexistent/tokenizer.json");
        BpeTokenizer noSpecials = BpeTrainer.train(java.util.Map.of("ab", 3L),
                new TrainerOptions(300, 1, java.util.List.of("<s>")));
        assertThatThrownBy(noSpecials::eosId).hasMessageContaining("no EOS added token");
    }

    private static com.fasterxml.jackson.databind.JsonNode json(String s) {
        try {
            return MAPPER.readTree(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
