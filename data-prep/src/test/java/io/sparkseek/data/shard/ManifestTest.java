package io.sparkseek.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ManifestTest {
    private static final String FILE = "/data/x/manifest.json";

    private static String json(Manifest m) {
        return new String(m.toJson(), StandardCharsets.UTF_8);
    }

    private static Manifest parse(String json) {
        return Manifest.fromJson(json.getBytes(StandardCharsets.UTF_8), FILE);
    }

    @Test
    void jsonRoundTripsAndIsByteDeterministic() {
        Manifest m = Fixtures.sample();
        byte[] first = m.toJson();

        Manifest back = Manifest.fromJson(first, FILE);
        assertThat(back).isEqualTo(m);
        assertThat(back.toJson()).isEqualTo(first);
        assertThat(Fixtures.sample().toJson()).isEqualTo(first);
        assertThat(back.runs().get(0).stats().keySet()).containsExactlyElementsOf(Fixtures.stats().keySet());
        assertThat(back.settings().keySet()).containsExactlyElementsOf(Fixtures.settings().keySet());
    }

    @Test
    void jsonHasFixedKeyOrderTwoSpaceIndentAndTrailingNewline() {
        String text = json(Fixtures.sample());

        assertThat(text).startsWith("{\n  \"format\": \"sparkseek-tokens/1\",\n  \"seq_len\": 8,\n  \"vocab_size\": 512,\n")
                .endsWith("}\n").doesNotContain("\r").doesNotContain("\t");
        List<String> keys = List.of("\"format\"", "\"seq_len\"", "\"vocab_size\"", "\"tokenizer\"",
                "\"tokenizer_sha256\"", "\"bos_id\"", "\"eos_id\"", "\"pad_id\"", "\"splits\"", "\"sources\"", "\"runs\"",
                "\"dedup_index\"", "\"settings\"");
        int at = -1;
        for (String key : keys) {
            int next = text.indexOf("\n  " + key + ": ");
            assertThat(next).as(key).isGreaterThan(at);
            at = next;
        }
        assertThat(text).contains("    \"train\": [\n      {\n        \"path\": \"train/part-00000-00000.arrow\",\n"
                + "        \"sequences\": 10,\n        \"tokens\": 90,\n        \"bytes\": 4096,\n        \"sha256\": ");
        assertThat(text.indexOf("\"train\"")).isLessThan(text.indexOf("\"val\""));
        assertThat(text).contains("{\n      \"path\": \"dedup/hashes-00001.bin\",\n      \"count\": 125,\n");
        assertThat(text.indexOf("\"documents_read\"")).isLessThan(text.indexOf("\"dropped_empty\""));
        assertThat(text.indexOf("\"dropped_empty\"")).isLessThan(text.indexOf("\"deduplicated\""));
        assertThat(text).contains("\"stats\": {}");
    }

    @Test
    void emptyManifestRoundTrips() {
        Manifest m = Manifest.create(4, 100, Fixtures.SHA_B, -1, 0, -1, Map.of());
        String text = json(m);

        assertThat(text).contains("\"train\": []").contains("\"sources\": []").contains("\"settings\": {}");
        assertThat(parse(text)).isEqualTo(m);
    }

    @Test
    void helpersSumPerSplitAndAppendImmutably() {
        Manifest m = Fixtures.sample();

        assertThat(m.totalSequences("train")).isEqualTo(13);
        assertThat(m.totalTokens("train")).isEqualTo(117);
        assertThat(m.totalSequences("val")).isEqualTo(1);
        assertThat(m.runs()).extracting(RunInfo::index).containsExactly(0, 1);
        assertThat(m.runs()).extracting(RunInfo::sources).containsExactly(2, 1);
        assertThat(m.allFiles()).hasSize(4);
        Manifest more = m.withShards("val", List.of(new ShardInfo("val/p2.arrow", 2, 18, 10, Fixtures.SHA_A)));
        assertThat(more.totalSequences("val")).isEqualTo(3);
        assertThat(m.totalSequences("val")).isEqualTo(1);
        assertThatThrownBy(() -> m.shards("test")).hasMessageContaining("test");
        assertThatThrownBy(() -> m.splits().put("x", List.of())).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void requireSettingsNamesTheChangedKey() {
        Manifest m = Fixtures.sample();
        m.requireSettings(Fixtures.settings());
        Map<String, String> changed = new LinkedHashMap<>(Fixtures.settings());
        changed.put("dedup", "near");

        assertThatThrownBy(() -> m.requireSettings(changed))
                .hasMessageContaining("dedup").hasMessageContaining("near").hasMessageContaining("exact");
    }

    @Test
    void unknownFormatNamesTheFileAndTheSupportedFormat() {
        String text = json(Fixtures.sample()).replace("sparkseek-tokens/1", "sparkseek-tokens/2");

        assertThatThrownBy(() -> parse(text)).isInstanceOf(ManifestException.class)
                .hasMessageContaining(FILE).hasMessageContaining("sparkseek-tokens/2").hasMessageContaining("sparkseek-tokens/1");
    }

    @Test
    void dotDotPathIsRejectedNamingTheField() {
        String text = json(Fixtures.sample()).replace("\"val/part-00000-00000.arrow\"", "\"val/../../etc/passwd\"");

        assertThatThrownBy(() -> parse(text)).isInstanceOf(ManifestException.class)
                .hasMessageContaining(FILE).hasMessageContaining("splits.val[0]").hasMessageContaining("..");
    }

    @Test
    void absoluteAndSchemePathsAreRejected() {
        String abs = json(Fixtures.sample()).replace("\"train/part-00000-00001.arrow\"", "\"/etc/passwd\"");
        String scheme = json(Fixtures.sample()).replace("\"dedup/hashes-00001.bin\"", "\"s3a://b/x.bin\"");
        String tokenizer = json(Fixtures.sample()).replace("\"tokenizer.json\"", "\"../tokenizer.json\"");

        assertThatThrownBy(() -> parse(abs)).hasMessageContaining("splits.train[1]").hasMessageContaining("/etc/passwd");
        assertThatThrownBy(() -> parse(scheme)).hasMessageContaining("dedup_index[0]");
        assertThatThrownBy(() -> parse(tokenizer)).hasMessageContaining("tokenizer");
    }

    @Test
    void missingFieldIsNamed() {
        String text = json(Fixtures.sample()).replace("  \"eos_id\": 2,\n", "");
        String nested = json(Fixtures.sample()).replace(",\n      \"docs\": 20\n", "\n");

        assertThatThrownBy(() -> parse(text)).isInstanceOf(ManifestException.class)
                .hasMessageContaining(FILE).hasMessageContaining("eos_id").hasMessageContaining("missing");
        assertThatThrownBy(() -> parse(nested)).isInstanceOf(ManifestException.class)
                .hasMessageContaining("sources[1].docs").hasMessageContaining("missing");
    }

    @Test
    void illTypedFieldIsNamed() {
        String text = json(Fixtures.sample()).replace("\"seq_len\": 8", "\"seq_len\": \"8\"");
        String nested = json(Fixtures.sample()).replace("\"sequences\": 3,", "\"sequences\": 3.5,");

        assertThatThrownBy(() -> parse(text)).hasMessageContaining("seq_len").hasMessageContaining("integer");
        assertThatThrownBy(() -> parse(nested)).hasMessageContaining("splits.train[1].sequences");
    }

    @Test
    void valueRulesAreChecked() {
        String base = json(Fixtures.sample());

        assertThatThrownBy(() -> parse(base.replace("\"seq_len\": 8", "\"seq_len\": 0")))
                .hasMessageContaining("seq_len must be >= 1");
        assertThatThrownBy(() -> parse(base.replace("\"tokens\": 27", "\"tokens\": 28")))
                .hasMessageContaining("train/part-00000-00001.arrow").hasMessageContaining("tokens");
        assertThatThrownBy(() -> parse(base.replace("\"eos_id\": 2", "\"eos_id\": 512")))
                .hasMessageContaining("eos_id");
        assertThatThrownBy(() -> parse(base.replace("\"index\": 1", "\"index\": 5")))
                .hasMessageContaining("runs[1].index");
        assertThatThrownBy(() -> parse(base.replace("\"val/part-00000-00000.arrow\"", "\"train/part-00000-00000.arrow\"")))
                .hasMessageContaining("more than once");
        assertThatThrownBy(() -> parse(base.replace("\"sha256\": \"bbbb", "\"sha256\": \"BBBB")))
                .hasMessageContaining("sha256");
        assertThatThrownBy(() -> parse(base.replace("\"sequences\": 3,", "\"sequences\": 4611686018427387904,")))
                .isInstanceOf(ManifestException.class).hasMessageContaining("train/part-00000-00001.arrow");
        assertThatThrownBy(() -> parse(base.replace("\"sequences\": 3,", "\"sequences\": 1e3,")))
                .isInstanceOf(ManifestException.class).hasMessageContaining("splits.train[1].sequences");
        assertThatThrownBy(() -> Fixtures.sample().withDedupIndex(List.of(new ShardInfo("d.bin", 3, 9, 40, Fixtures.SHA_A))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("d.bin");
    }

    @Test
    void unknownAndDuplicateKeysAndBadJsonAreRejected() {
        String base = json(Fixtures.sample());

        assertThatThrownBy(() -> parse(base.replace("\"pad_id\": -1,", "\"pad_id\": -1,\n  \"extra\": 1,")))
                .hasMessageContaining("extra");
        assertThatThrownBy(() -> parse(base.replace("\"pad_id\": -1,", "\"pad_id\": -1,\n  \"bos_id\": 3,")))
                .hasMessageContaining("bos_id");
        assertThatThrownBy(() -> parse(base.replace("\"val\": [", "\"test\": [")))
                .hasMessageContaining("test");
        assertThatThrownBy(() -> parse(base.substring(0, base.length() / 2)))
                .isInstanceOf(ManifestException.class).hasMessageContaining(FILE).hasMessageContaining("JSON");
        assertThatThrownBy(() -> parse("[]")).hasMessageContaining(FILE);
        assertThatThrownBy(() -> parse(base + "{}")).isInstanceOf(ManifestException.class).hasMessageContaining(FILE);
        assertThatThrownBy(() -> parse("")).isInstanceOf(ManifestException.class).hasMessageContaining(FILE);
    }
}
