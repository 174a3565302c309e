package io.sparkseek.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code sparkseek prep} through the CLI on an embedded local Spark: the summary, re-runs and one-line errors. */
class PrepCliTest {

    @TempDir
    Path tmp;

    private Path corpus() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        Random rnd = new Random(3);
        List<String> paragraphs = new ArrayList<>();
        for (int d = 0; d < 40; d++) {
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < 60; w++) {
                sb.append(w == 0 ? "" : " ").append("w").append(rnd.nextInt(300));
            }
            paragraphs.add(sb.append('.').toString());
        }
        paragraphs.add(paragraphs.get(5)); // an exact duplicate
        Files.writeString(in.resolve("a.txt"), String.join("\n\n", paragraphs));
        return in;
    }

    @Test
    void prepPrintsASummaryAndARerunChangesNothing() throws Exception {
        Path in = corpus();
        Path out = tmp.resolve("data");
        String[] args = {"prep", "--input", in.toString(), "--output", out.toString(), "--text-split", "paragraph",
                "--vocab-size", "320", "--seq-len", "16", "--dedup", "exact", "--val-fraction", "0.1"};
        Cli.Result r = Cli.run(args);
        assertThat(r.exit()).as(r.describe()).isZero();
        assertThat(r.out()).contains("prep [7/7]").contains("documents_read         41")
                .contains("exact_duplicates       1").contains("documents_kept         40").contains("bytes_per_token");
        assertThat(out.resolve("manifest.json")).exists();
        assertThat(out.resolve("_prep.lock")).doesNotExist();
        assertThat(out.resolve("_tmp")).doesNotExist();
        String manifest = Files.readString(out.resolve("manifest.json"));

        Cli.Result again = Cli.run(args);
        assertThat(again.exit()).as(again.describe()).isZero();
        assertThat(again.out()).contains("nothing new").contains("prep: unchanged");
        assertThat(Files.readString(out.resolve("manifest.json"))).isEqualTo(manifest);
    }

    @Test
    void badFlagsAndBadInputAreOneLineErrors() throws Exception {
        Path in = corpus();
        Cli.Result format = Cli.run("prep", "--input", in.toString(), "--output", tmp.resolve("x").toString(),
                "--format", "xml");
        assertThat(format.exit()).isEqualTo(2);
        assertThat(format.err().strip()).isEqualTo("sparkseek prep: --format must be auto|text|jsonl|parquet, got 'xml'");

        Cli.Result val = Cli.run("prep", "--input", in.toString(), "--output", tmp.resolve("x").toString(),
                "--val-fraction", "1.5");
        assertThat(val.exit()).isEqualTo(2);
        assertThat(val.err()).contains("--val-fraction must be in [0, 1), got 1.5");

        Files.writeString(in.resolve("b.jsonl"), "{\"text\": \"ok\"}\nnot json\n");
        Path out = tmp.resolve("y");
        Cli.Result bad = Cli.run("prep", "--input", in.toString(), "--output", out.toString(), "--vocab-size", "320");
        assertThat(bad.exit()).as(bad.describe()).isEqualTo(2);
        String line = bad.err().lines().filter(l -> l.startsWith("sparkseek prep: ")).findFirst().orElseThrow();
        assertThat(line).contains("b.jsonl:2: not valid JSON").contains("--bad-records skip")
                .doesNotContain("Job aborted");
        assertThat(out).doesNotExist();
    }
}
