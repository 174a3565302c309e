package io.sparkseek.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code scripts/sparkseek prep} with {@code SPARK_HOME} set goes through Spark's own submit path (bin/spark-submit →
 * launcher → SparkSubmit) with the thin application jar and its dependencies as {@code --jars}; the SPARK_HOME is
 * the one {@code scripts/spark-home} assembles from the Maven jars.
 */
class SparkSubmitTest {

    @TempDir
    Path tmp;

    private static Path root() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("scripts/sparkseek"))) {
                return p;
            }
        }
        throw new IllegalStateException("repository root not found");
    }

    private static String run(List<String> cmd, Map<String, String> env, Path log) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root().toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("finished: " + cmd).isTrue();
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(cmd + "\n" + out).isZero();
        return out;
    }

    @Test
    void prepRunsThroughSparkSubmit() throws Exception {
        Path home = tmp.resolve("spark-home");
        run(List.of("scripts/spark-home", home.toString()), Map.of(), tmp.resolve("home.log"));
        assertThat(home.resolve("bin/spark-submit")).isExecutable();
        assertThat(new File(home.resolve("jars").toString()).list()).anyMatch(n -> n.startsWith("spark-core_2.13"))
                .noneMatch(n -> n.startsWith("model-core"));

        Path in = Files.createDirectories(tmp.resolve("in"));
        Files.writeString(in.resolve("a.txt"), "The first document.\n\nThe second one, a little longer.\n\nA third.\n");
        Path out = tmp.resolve("data");
        String log = run(List.of("scripts/sparkseek", "prep", "--input", in.toString(), "--output", out.toString(),
                        "--text-split", "paragraph", "--vocab-size", "280", "--seq-len", "4", "--dedup", "exact"),
                Map.of("SPARK_HOME", home.toString(), "SPARKSEEK_NO_BUILD", "1",
                        "SPARKSEEK_SUBMIT_OPTS", "--master local[2] --verbose"), tmp.resolve("prep.log"));
        assertThat(log).contains("Main class:").contains("io.sparkseek.jobs.Main").contains("local[2]")
                .contains("prep [7/7]").contains("documents_kept         3");
        assertThat(out.resolve("manifest.json")).exists();
    }
}
