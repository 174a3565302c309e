package io.sparkseek.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkseek.data.tokenizer.BpeTokenizer;
import io.sparkseek.data.tokenizer.BpeTrainer;
import io.sparkseek.data.tokenizer.PreTokenizer;
import io.sparkseek.data.tokenizer.TrainerOptions;
import io.sparkseek.model.io.HfModelDir;
import io.sparkseek.model.io.TrainerCheckpoint;
import io.sparkseek.model.optim.AdamW;
import io.sparkseek.model.optim.AdamWConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code generate} end to end through {@code Main.run}: a model from {@code init --model conf/models/tiny.json} with
 * a tokenizer.json trained next to it (BpeTrainer, 300 tokens, on text with multi-byte characters). KV-cached and
 * {@code --no-cache} greedy decoding give the same tokens; a seed fixes sampled text; streamed text equals the
 * one-shot decode; a trainer run directory finds the tokenizer in its latest checkpoint; missing tokenizer and
 * too-long prompts are one-line errors.
 */
class GenerateCliTest {
    static final String PROMPT = "Der Bär läuft über die Straße, the cat sat";
    static final String CORPUS = "the cat sat on the mat. Der Bär läuft über die Straße. 日本語のテキスト ✓ — "
            + "naïve café crème brûlée; the quick brown fox jumps over the lazy dog. ";

    @TempDir
    Path tmp;

    Path model;
    BpeTokenizer tokenizer;

    @BeforeEach
    void initModelWithTokenizer() throws IOException {
        model = tmp.resolve("model");
        Path config = Cli.repoRoot().resolve("conf/models/tiny.json");
        Cli.Result r = Cli.run("init", "--model", config.toString(), "--out", model.toString(), "--seed", "3");
        assertThat(r.exit()).as(r.describe()).isZero();
        Map<String, Long> counts = new HashMap<>();
        for (String piece : PreTokenizer.deepSeekV3().split(CORPUS.repeat(20))) {
            counts.merge(piece, 1L, Long::sum);
        }
        tokenizer = BpeTrainer.train(counts, TrainerOptions.defaults(300));
        Files.writeString(model.resolve("tokenizer.json"), tokenizer.toJson(), StandardCharsets.UTF_8);
    }

    JsonNode generateJson(String... extra) throws IOException {
        List<String> a = new ArrayList<>(List.of("generate", "--checkpoint", model.toString(), "--threads", "2",
                "--json"));
        a.addAll(List.of(extra));
        Cli.Result r = Cli.run(a.toArray(String[]::new));
        assertThat(r.exit()).as(r.describe()).isZero();
        return ReferenceCrossCheckTest.singleJsonObject(r.out(), "generate --json stdout");
    }

    static int[] ids(JsonNode j) {
        return IntStream.range(0, j.get("ids").size()).map(i -> j.get("ids").get(i).asInt()).toArray();
    }

    @Test
    void greedyCachedAndNoCacheGiveTheSameTokens() throws IOException {
        JsonNode cached = generateJson("--prompt", PROMPT, "--temperature", "0", "--max-new-tokens", "24");
        JsonNode full = generateJson("--prompt", PROMPT, "--temperature", "0", "--max-new-tokens", "24",
                "--no-cache");
        assertThat(cached.get("cache").asText()).isEqualTo("mla-latent");
        assertThat(full.get("cache").asText()).isEqualTo("none");
        assertThat(cached.get("prompt_tokens").asInt()).as("prompt encoded as data prep does (no BOS)")
                .isEqualTo(tokenizer.encodeOrdinary(PROMPT).length);
        assertThat(ids(cached)).isNotEmpty().isEqualTo(ids(full));
        assertThat(cached.get("new_tokens").asInt()).isEqualTo(ids(cached).length).isLessThanOrEqualTo(24);
        assertThat(cached.get("text").asText()).isEqualTo(full.get("text").asText())
                .isEqualTo(tokenizer.decode(ids(cached)));
        assertThat(cached.get("stop").asText()).isEqualTo(full.get("stop").asText()).isIn("eos", "max_new_tokens");
        assertThat(cached.get("eos_token_id").asInt()).isEqualTo(tokenizer.eosId());
        assertThat(cached.get("decode_tokens_per_s").asDouble()).isPositive();
    }

    @Test
    void sameSeedSameTextAndStreamedTextEqualsOneShotDecode() throws IOException {
        String[] sample = {"--prompt", PROMPT, "--temperature", "1.0", "--top-p", "0.95", "--max-new-tokens", "32"};
        JsonNode a = generateJson(concat(sample, "--seed", "7"));
        JsonNode b = generateJson(concat(sample, "--seed", "7"));
        JsonNode c = generateJson(concat(sample, "--seed", "8"));
        assertThat(ids(a)).isNotEmpty().isEqualTo(ids(b));
        assertThat(a.get("text").asText()).isEqualTo(b.get("text").asText());
        assertThat(ids(c)).as("another seed, other tokens").isNotEqualTo(ids(a));
        JsonNode noCache = generateJson(concat(concat(sample, "--seed", "7"), "--no-cache"));
        assertThat(ids(noCache)).as("same seed without the cache").isEqualTo(ids(a));

        List<String> args = new ArrayList<>(List.of("generate", "--checkpoint", model.toString(), "--threads", "2",
                "--seed", "7"));
        args.addAll(List.of(sample));
        Cli.Result text = Cli.run(args.toArray(String[]::new));
        assertThat(text.exit()).as(text.describe()).isZero();
        assertThat(text.out()).as("streamed text, whole UTF-8 characters")
                .isEqualTo(a.get("text").asText() + System.lineSeparator());
        assertThat(text.err()).contains("prompt tokens").contains("new tokens").contains("prefill")
                .contains("tokens/s");
    }

    @Test
    void aTrainerRunDirectoryUsesTheTokenizerOfItsLatestCheckpoint() throws IOException {
        Path run = tmp.resolve("run");
        Path ckpt = TrainerCheckpoint.save(run, 5, HfModelDir.load(model, 0f),
                new AdamW(List.of(), AdamWConfig.DEFAULT), Map.of(), 0);
        Files.copy(model.resolve("tokenizer.json"), ckpt.resolve("tokenizer.json"));
        String[] greedy = {"--prompt", PROMPT, "--temperature", "0", "--max-new-tokens", "12"};
        JsonNode fromHfDir = generateJson(greedy);
        model = run;
        JsonNode fromRun = generateJson(greedy);
        assertThat(ids(fromRun)).isEqualTo(ids(fromHfDir));
        assertThat(fromRun.get("text").asText()).isEqualTo(fromHfDir.get("text").asText());

        Files.delete(ckpt.resolve("tokenizer.json"));
        CliTest.assertUserError(Cli.run("generate", "--checkpoint", run.toString(), "--prompt", PROMPT),
                ckpt.resolve("tokenizer.json").toString());
    }

    @Test
    void promptIdsWorkWithoutATokenizerAndPromptTextNamesTheMissingFile() throws IOException {
        Files.delete(model.resolve("tokenizer.json"));
        CliTest.assertUserError(Cli.run("generate", "--checkpoint", model.toString(), "--prompt", "hello"),
                "tokenizer.json", model.toString(), "--prompt-ids");

        Cli.Result r = Cli.run("generate", "--checkpoint", model.toString(), "--prompt-ids", "5,6,7",
                "--temperature", "0", "--max-new-tokens", "6");
        assertThat(r.exit()).as(r.describe()).isZero();
        JsonNode j = generateJson("--prompt-ids", "5,6,7", "--temperature", "0", "--max-new-tokens", "6");
        assertThat(j.has("text")).as("no tokenizer, no text").isFalse();
        String idsLine = IntStream.of(ids(j)).mapToObj(Integer::toString).collect(Collectors.joining(" "));
        assertThat(r.out().strip()).as("ids streamed on stdout").isEqualTo(idsLine);
    }

    @Test
    void tooLongPromptIsAOneLineError() {
        String ids = IntStream.range(0, 256).mapToObj(i -> Integer.toString(5 + i % 100))
                .collect(Collectors.joining(","));
        CliTest.assertUserError(Cli.run("generate", "--checkpoint", model.toString(), "--prompt-ids", ids),
                "256 tokens", "max_position_embeddings is 256");
        CliTest.assertUserError(Cli.run("generate", "--checkpoint", model.toString(), "--prompt", PROMPT,
                "--top-p", "0"), "top-p");
    }

    static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
