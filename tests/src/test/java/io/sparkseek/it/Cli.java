package io.sparkseek.it;

import io.sparkseek.jobs.Main;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Helpers shared by the integration tests: runs {@code Main.run} capturing stdout/stderr, token files, repo root. */
final class Cli {
    private Cli() {
    }

    /** Exit code and what the command printed on stdout and stderr. */
    record Result(int exit, String out, String err, String[] args) {
        /** For assertion messages. */
        String describe() {
            return "sparkseek " + String.join(" ", args) + "\n  exit " + exit + "\n  stdout: " + out + "\n  stderr: " + err;
        }
    }

    /**
     * Runs the CLI in-process with System.out/System.err redirected (picocli's error writer is created lazily
     * from System.err, so it is captured too). Not re-entrant: tests run sequentially in one JVM.
     */
    static synchronized Result run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            exit = Main.run(args);
            o.flush();
            e.flush();
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), args);
    }

    static String[] args(Object... parts) {
        return Arrays.stream(parts).map(String::valueOf).toArray(String[]::new);
    }

    /** Raw little-endian int32 file. */
    static void writeInts(Path file, int[] values) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asIntBuffer().put(values);
        Files.write(file, buf.array());
    }

    /** {@code rows} rows of {@code seqLen + 1} uniform random tokens in [0, vocab). */
    static int[] randomTokens(long seed, int rows, int seqLen, int vocab) {
        Random rnd = new Random(seed);
        int[] t = new int[rows * (seqLen + 1)];
        for (int i = 0; i < t.length; i++) {
            t[i] = rnd.nextInt(vocab);
        }
        return t;
    }

    /**
     * {@code docs} paragraphs of {@code wordsPerDoc} random words from a 20-word vocabulary, each ending in '.',
     * separated by blank lines (for {@code prep --text-split paragraph}). With {@code pairs}, "the" is always
     * followed by "cat" or "dog": something a tiny model learns quickly.
     */
    static String wordParagraphs(long seed, int docs, int wordsPerDoc, boolean pairs) {
        Random rnd = new Random(seed);
        String[] words = {"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far", "away", "from", "home",
                "we", "saw", "it", "go", "by", "river", "stone"};
        List<String> out = new ArrayList<>();
        for (int d = 0; d < docs; d++) {
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < wordsPerDoc; w++) {
                String word = words[rnd.nextInt(words.length)];
                sb.append(w == 0 ? "" : " ").append(word);
                if (pairs && word.equals("the")) {
                    sb.append(rnd.nextBoolean() ? " cat" : " dog");
                }
            }
            out.add(sb.append('.').toString());
        }
        return String.join("\n\n", out);
    }

    /** The word-paragraph corpus and its data dir, as {@link #prepWords} makes them. */
    record Words(Path corpus, Path data) {
    }

    /**
     * Writes {@link #wordParagraphs} to {@code dir/in/a.txt} and preps it in-process into {@code dir/data}
     * (paragraphs, a trained 300-token BPE, {@code seqLen}, exact dedup, 10% val); the small data dir most
     * integration tests train on.
     */
    static Words prepWords(Path dir, long seed, int docs, int wordsPerDoc, boolean pairs, int seqLen)
            throws IOException {
        Path in = Files.createDirectories(dir.resolve("in"));
        Path corpus = in.resolve("a.txt");
        Files.writeString(corpus, wordParagraphs(seed, docs, wordsPerDoc, pairs));
        Path data = dir.resolve("data");
        Result r = run("prep", "--input", in.toString(), "--output", data.toString(), "--text-split", "paragraph",
                "--vocab-size", "300", "--seq-len", Integer.toString(seqLen), "--dedup", "exact", "--val-fraction",
                "0.1");
        if (r.exit() != 0) {
            throw new IllegalStateException("prep of the word corpus failed:\n" + r.describe());
        }
        return new Words(corpus, data);
    }

    /**
     * The repository root: system property {@code sparkseek.root} (set by Surefire), else the first directory
     * at or above the working directory that holds {@code tests/reference}.
     */
    static Path repoRoot() {
        String prop = System.getProperty("sparkseek.root");
        if (prop != null && !prop.isBlank() && !prop.contains("${")
                && Files.isDirectory(Paths.get(prop).resolve("tests/reference"))) {
            return Paths.get(prop).toAbsolutePath();
        }
        for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("tests/reference"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the repository root (no tests/reference above "
                + Paths.get("").toAbsolutePath() + " and -Dsparkseek.root=" + prop + ")");
    }
}
