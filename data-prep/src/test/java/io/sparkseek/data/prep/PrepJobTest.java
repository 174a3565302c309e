package io.sparkseek.data.prep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.data.shard.CorruptShardException;
import io.sparkseek.data.shard.DataDir;
import io.sparkseek.data.shard.Manifest;
import io.sparkseek.data.shard.ShardInfo;
import io.sparkseek.data.shard.ShardReader;
import io.sparkseek.data.tokenizer.BpeTokenizer;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The prep job end to end on a real local Spark: the Brown corpus (issue 4's acceptance run), then small
 * generated corpora for determinism, incremental runs and failures. Shards are checked with a plain
 * {@link ArrowFileReader} and {@link MessageDigest}, not with the job's own reader.
 */
class PrepJobTest {
    private static SparkSession spark;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @BeforeAll
    static void startSpark() {
        spark = SparkSession.builder().master("local[2]").appName("prep-job-test")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate();
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }

    private static PrepOptions options(List<String> inputs, Path out, int vocab, int seqLen, PrepOptions.DedupMode dedup,
                                       double val, int shardMb, int partitions) {
        return new PrepOptions(inputs, out.toString(), PrepOptions.InputFormat.AUTO, "text",
                PrepOptions.TextSplit.PARAGRAPH, PrepOptions.InvalidUtf8.REPLACE, PrepOptions.BadRecords.FAIL,
                Optional.empty(), vocab, seqLen, dedup, NearDedupOptions.defaults(), val, shardMb, partitions);
    }

    private static PrepJob.Result prep(PrepOptions o) throws IOException {
        return PrepJob.run(spark, o, System.out::println);
    }

    // ---------------------------------------------------------------- Brown

    @Test
    void brownCorpusShardsAreConsistentAndDecodeToTheKeptDocuments() throws Exception {
        Path brown = repoRoot().resolve("data/corpus/brown/brown.jsonl");
        assertThat(brown).as("the Brown corpus: run scripts/fetch-corpus first (scripts/test does)").exists();
        List<String> originals = new ArrayList<>();
        for (String line : Files.readAllLines(brown)) {
            originals.add(JSON.readTree(line).get("text").asText());
        }
        // Planted near-duplicates of real Brown documents, in a second file after Brown (its key range is later, so
        // the originals are the representatives kept): word edits from 1% (clearly near-duplicate) to 30% (clearly
        // not). Ground truth: the exact 5-character-shingle Jaccard computed here, independently of NearDedup.
        Path in = Files.createDirectories(tmp.resolve("in"));
        Files.copy(brown, in.resolve("a-brown.jsonl"));
        Random rnd = new Random(2026);
        double[] editRates = {0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.3};
        List<String> planted = new ArrayList<>();
        List<Boolean> trulyNear = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String original = originals.get(rnd.nextInt(originals.size()));
            String copy = editWords(original, editRates[i % editRates.length], rnd);
            planted.add(copy);
            trulyNear.add(referenceJaccard(TextCleaner.clean(original), TextCleaner.clean(copy)) >= 0.8);
        }
        writeJsonl(in, "b-planted.jsonl", planted);
        List<String> cleaned = new ArrayList<>();
        originals.forEach(t -> cleaned.add(TextCleaner.clean(t)));
        planted.forEach(t -> cleaned.add(TextCleaner.clean(t)));

        Path out = tmp.resolve("brown");
        PrepOptions o = options(List.of(in.toString()), out, 8192, 256, PrepOptions.DedupMode.NEAR, 0.05, 1, 0);
        PrepJob.Result r = prep(o);
        PrepCounters c = r.counters();
        Manifest m = r.manifest();

        assertThat(c.get(PrepCounters.DOCUMENTS_READ)).isEqualTo(540);
        assertThat(m.vocabSize()).isEqualTo(8192);
        assertThat(m.sources()).hasSize(2);
        assertThat(m.sources().get(0).docs()).isEqualTo(500);
        assertThat(m.shards(Manifest.TRAIN).size()).as("1 MiB shards").isGreaterThan(3);
        BpeTokenizer tok = BpeTokenizer.load(out.resolve("tokenizer.json"));
        String eos = BpeTokenizer.EOS_TOKEN;
        assertThat(tok.eosId()).isEqualTo(m.eosId());
        assertThat(DataDir.sha256(FileSystem.getLocal(new Configuration()),
                new org.apache.hadoop.fs.Path(out.resolve("tokenizer.json").toUri()))).isEqualTo(m.tokenizerSha256());

        // Decode each split's windows in order: the pieces between EOS are the kept documents, in key order.
        int complete = 0;
        List<Integer> seenDocs = new ArrayList<>();
        for (String split : Manifest.SPLITS) {
            int[] stream = readSplitIndependently(out, m, split);
            assertThat((long) stream.length).isEqualTo(m.totalTokens(split));
            assertThat(m.totalSequences(split)).isEqualTo(c.get(split.equals(Manifest.TRAIN)
                    ? PrepCounters.TRAIN_SEQUENCES : PrepCounters.VAL_SEQUENCES));
            String[] pieces = tok.decode(stream).split(eos, -1);
            int nextDoc = 0;
            for (int i = 0; i < pieces.length; i++) {
                String piece = pieces[i];
                boolean last = i == pieces.length - 1;
                if (last && piece.isEmpty()) {
                    break;
                }
                int found = -1;
                for (int d = nextDoc; d < cleaned.size() && found < 0; d++) {
                    if (last ? cleaned.get(d).startsWith(stripPartialChar(piece)) : cleaned.get(d).equals(piece)) {
                        found = d;
                    }
                }
                assertThat(found).as(split + " piece " + i + " is an input document, in order: "
                        + piece.substring(0, Math.min(80, piece.length()))).isGreaterThanOrEqualTo(0);
                seenDocs.add(found);
                nextDoc = found + 1;
                complete += last ? 0 : 1;
            }
        }
        assertThat(seenDocs).as("no document in both splits").doesNotHaveDuplicates();
        long kept = c.get(PrepCounters.DOCUMENTS_KEPT);
        assertThat(seenDocs.size()).as("every kept document appears (a tail-cut one partially)")
                .isBetween((int) kept - 2, (int) kept);

        // Near dedup on real English: which planted copies were dropped, against the ground truth.
        int truePositives = 0;
        int dropped = 0;
        int trueTotal = 0;
        for (int i = 0; i < planted.size(); i++) {
            boolean wasDropped = !seenDocs.contains(originals.size() + i);
            trueTotal += trulyNear.get(i) ? 1 : 0;
            dropped += wasDropped ? 1 : 0;
            truePositives += wasDropped && trulyNear.get(i) ? 1 : 0;
        }
        assertThat(seenDocs.stream().filter(d -> d < originals.size()).count())
                .as("every Brown document kept (the originals are the representatives)").isBetween(498L, 500L);
        assertThat(c.get(PrepCounters.NEAR_DUPLICATES)).isEqualTo(dropped);
        double recall = (double) truePositives / trueTotal;
        double precision = dropped == 0 ? 1 : (double) truePositives / dropped;
        long tokens = c.get(PrepCounters.TRAIN_TOKENS) + c.get(PrepCounters.VAL_TOKENS);
        double bytesPerToken = (double) c.get(PrepCounters.TEXT_BYTES) / (tokens - kept);
        System.out.printf("Brown + 40 planted copies: %d docs kept of %d (%d exact, %d near duplicates; planted: %d truly "
                        + "near-duplicate, recall %.3f, precision %.3f), %d tokens, %.3f bytes/token (vocab 8192), %d "
                        + "complete documents decoded%n", kept, c.get(PrepCounters.DOCUMENTS_READ),
                c.get(PrepCounters.EXACT_DUPLICATES), c.get(PrepCounters.NEAR_DUPLICATES), trueTotal, recall, precision,
                tokens, bytesPerToken, complete);
        assertThat(trueTotal).as("the edit rates put copies on both sides of 0.8").isBetween(10, 35);
        assertThat(recall).isEqualTo(1.0);
        assertThat(precision).isEqualTo(1.0);
        assertThat(bytesPerToken).isBetween(3.5, 6.0);

        // the same inputs again change nothing, byte for byte
        Map<String, String> before = snapshot(out);
        PrepJob.Result again = prep(o);
        assertThat(again.changed()).isFalse();
        assertThat(snapshot(out)).isEqualTo(before);
    }

    /** {@code text} with a share {@code rate} of its words replaced by other words of the same text. */
    private static String editWords(String text, double rate, Random rnd) {
        String[] words = text.split(" ");
        for (int k = 0; k < Math.round(words.length * rate); k++) {
            words[rnd.nextInt(words.length)] = words[rnd.nextInt(words.length)] + (rnd.nextBoolean() ? "s" : "");
        }
        return String.join(" ", words);
    }

    /** Jaccard similarity of 5-code-point shingle sets after lower-casing and collapsing whitespace. */
    private static double referenceJaccard(String a, String b) {
        java.util.Set<String> x = shingles(a);
        java.util.Set<String> y = shingles(b);
        long common = x.stream().filter(y::contains).count();
        return (double) common / (x.size() + y.size() - common);
    }

    private static java.util.Set<String> shingles(String text) {
        int[] cps = text.toLowerCase(java.util.Locale.ROOT).replaceAll("(?U)\\s+", " ").strip().codePoints().toArray();
        java.util.Set<String> out = new java.util.HashSet<>();
        for (int i = 0; i + 5 <= cps.length; i++) {
            out.add(new String(cps, i, 5));
        }
        return out;
    }

    /** All rows of one split read with a plain ArrowFileReader after checking size and SHA-256 independently. */
    private static int[] readSplitIndependently(Path out, Manifest m, String split) throws Exception {
        List<Integer> all = new ArrayList<>();
        int width = m.seqLen() + 1;
        for (ShardInfo s : m.shards(split)) {
            Path file = out.resolve(s.path());
            byte[] bytes = Files.readAllBytes(file);
            assertThat((long) bytes.length).isEqualTo(s.bytes());
            assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes))).isEqualTo(s.sha256());
            try (RootAllocator alloc = new RootAllocator();
                 FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
                 ArrowFileReader reader = new ArrowFileReader(ch, alloc)) {
                VectorSchemaRoot root = reader.getVectorSchemaRoot();
                Field f = root.getSchema().getFields().get(0);
                assertThat(f.getName()).isEqualTo("tokens");
                assertThat(((ArrowType.FixedSizeList) f.getType()).getListSize()).isEqualTo(width);
                long rows = 0;
                while (reader.loadNextBatch()) {
                    FixedSizeListVector list = (FixedSizeListVector) root.getVector(0);
                    IntVector data = (IntVector) list.getDataVector();
                    for (int i = 0; i < root.getRowCount() * width; i++) {
                        all.add(data.get(i));
                    }
                    rows += root.getRowCount();
                }
                assertThat(rows).isEqualTo(s.sequences());
            }
        }
        return all.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String stripPartialChar(String s) {
        return s.endsWith("\uFFFD") ? s.substring(0, s.length() - 1) : s;
    }

    // ---------------------------------------------------------------- generated corpora

    /** Pseudo-English documents from a seeded vocabulary, blank-line separated in text files. */
    private static List<String> documents(long seed, int count) {
        Random rnd = new Random(seed);
        String[] words = new String[400];
        Random w = new Random(11);
        for (int i = 0; i < words.length; i++) {
            StringBuilder sb = new StringBuilder();
            int len = 2 + w.nextInt(7);
            for (int j = 0; j < len; j++) {
                sb.append((char) ('a' + w.nextInt(26)));
            }
            words[i] = sb.toString();
        }
        List<String> docs = new ArrayList<>();
        for (int d = 0; d < count; d++) {
            StringBuilder sb = new StringBuilder();
            int n = 20 + rnd.nextInt(120);
            for (int i = 0; i < n; i++) {
                sb.append(i == 0 ? "" : rnd.nextInt(12) == 0 ? ". " : " ").append(words[rnd.nextInt(words.length)]);
            }
            docs.add(sb.append('.').toString());
        }
        return docs;
    }

    private static Path writeText(Path dir, String name, List<String> docs) throws IOException {
        Files.createDirectories(dir);
        return Files.writeString(dir.resolve(name), String.join("\n\n", docs) + "\n", StandardCharsets.UTF_8);
    }

    private static Path writeJsonl(Path dir, String name, List<String> docs) throws IOException {
        Files.createDirectories(dir);
        StringBuilder sb = new StringBuilder();
        for (String d : docs) {
            sb.append(JSON.writeValueAsString(Map.of("text", d))).append('\n');
        }
        return Files.writeString(dir.resolve(name), sb.toString(), StandardCharsets.UTF_8);
    }

    @Test
    void outputDoesNotDependOnPartitioning() throws Exception {
        Path in = tmp.resolve("in");
        writeText(in, "a.txt", documents(1, 60));
        writeJsonl(in, "b.jsonl", documents(2, 40));
        Path one = tmp.resolve("one");
        Path five = tmp.resolve("five");
        prep(options(List.of(in.toString()), one, 400, 32, PrepOptions.DedupMode.NEAR, 0.1, 1, 1));
        prep(options(List.of(in.toString()), five, 400, 32, PrepOptions.DedupMode.NEAR, 0.1, 1, 5));
        Map<String, String> a = snapshot(one);
        assertThat(a).containsKeys("manifest.json", "tokenizer.json", "tokenizer_config.json", "train/part-00000-00000.arrow",
                "val/part-00000-00000.arrow", "dedup/exact-00000.bin");
        assertThat(snapshot(five)).isEqualTo(a);
    }

    @Test
    void incrementalRunAddsShardsForNewFilesOnlyAndDedupsAgainstTheDir() throws Exception {
        Path in = tmp.resolve("in");
        List<String> first = documents(3, 50);
        writeText(in, "a.txt", first);
        Path out = tmp.resolve("data");
        PrepOptions o = options(List.of(in.toString()), out, 400, 32, PrepOptions.DedupMode.EXACT, 0.1, 1, 0);
        prep(o);
        Map<String, String> before = snapshot(out);

        List<String> second = new ArrayList<>(documents(4, 30));
        second.add(first.get(7)); // an exact copy of a document already prepared
        writeJsonl(in, "b.jsonl", second);
        PrepJob.Result r = prep(o);
        assertThat(r.newSources()).isEqualTo(1);
        assertThat(r.counters().get(PrepCounters.EXACT_DUPLICATES)).isEqualTo(1);
        assertThat(r.counters().get(PrepCounters.DOCUMENTS_KEPT)).isEqualTo(30);
        Map<String, String> after = snapshot(out);
        before.forEach((path, sha) -> {
            if (!path.equals("manifest.json")) {
                assertThat(after.get(path)).as(path + " unchanged").isEqualTo(sha);
            }
        });
        assertThat(after.keySet()).contains("train/part-00001-00000.arrow", "dedup/exact-00001.bin");
        Manifest m = r.manifest();
        assertThat(m.sources()).extracting(s -> Path.of(java.net.URI.create(s.uri())).getFileName().toString())
                .containsExactly("a.txt", "b.jsonl");
        assertThat(m.runs()).hasSize(2);
        assertThat(m.runs().get(1).stats().get(PrepCounters.EXACT_DUPLICATES)).isEqualTo(1L);
        DataDir.verify(FileSystem.getLocal(new Configuration()), new org.apache.hadoop.fs.Path(out.toUri()));

        // and once more: nothing new, nothing touched
        assertThat(prep(o).changed()).isFalse();
        assertThat(snapshot(out)).isEqualTo(after);

        // a changed source is refused, naming it
        writeText(in, "a.txt", documents(5, 50));
        assertThatThrownBy(() -> prep(o)).isInstanceOf(PrepInputException.class)
                .hasMessageContaining("a.txt changed since it was prepared");
        assertThat(snapshot(out)).isEqualTo(after);
    }

    @Test
    void malformedInputLeavesNoDataDirAndAFailedIncrementalRunLeavesThePreviousOneIntact() throws Exception {
        Path in = tmp.resolve("in");
        writeJsonl(in, "good.jsonl", documents(6, 20));
        Path bad = in.resolve("bad.jsonl");
        Files.writeString(bad, "{\"text\": \"fine\"}\n{\"text\": \"broken\n");
        Path fresh = tmp.resolve("fresh");
        assertThatThrownBy(() -> prep(options(List.of(in.toString()), fresh, 400, 32, PrepOptions.DedupMode.EXACT,
                0.1, 1, 0))).isInstanceOf(PrepInputException.class).hasMessageStartingWith("file:")
                .hasMessageContaining("bad.jsonl:2: not valid JSON").hasMessageNotContaining("Job aborted");
        assertThat(fresh).as("a first run that failed leaves no data dir").doesNotExist();

        Files.delete(bad);

        // an unreadable file (not gzip despite its name) is an error naming it, under every policy
        Path broken = in.resolve("c.txt.gz");
        Files.write(broken, new byte[]{'n', 'o', 't', ' ', 'g', 'z', 'i', 'p'});
        Path fresh2 = tmp.resolve("fresh2");
        PrepOptions lenient = new PrepOptions(List.of(in.toString()), fresh2.toString(), PrepOptions.InputFormat.AUTO,
                "text", PrepOptions.TextSplit.FILE, PrepOptions.InvalidUtf8.SKIP, PrepOptions.BadRecords.SKIP,
                Optional.empty(), 400, 32, PrepOptions.DedupMode.EXACT, NearDedupOptions.defaults(), 0.1, 1, 0);
        assertThatThrownBy(() -> prep(lenient)).isInstanceOf(PrepInputException.class)
                .hasMessageContaining("cannot read input").hasMessageContaining("c.txt.gz");
        assertThat(fresh2).doesNotExist();
        Files.delete(broken);

        Path out = tmp.resolve("data");
        PrepOptions o = options(List.of(in.toString()), out, 400, 32, PrepOptions.DedupMode.EXACT, 0.1, 1, 0);
        prep(o);
        Map<String, String> before = snapshot(out);
        Files.writeString(bad, "{\"text\": \"fine\"}\n{\"body\": \"no text\"}\n");
        assertThatThrownBy(() -> prep(o)).hasMessageContaining("bad.jsonl:2: no \"text\" field");
        assertThat(snapshot(out)).as("the previous manifest and shards, and nothing else").isEqualTo(before);

        // skip policy: the same file goes through, the bad record counted
        PrepOptions skip = new PrepOptions(o.inputs(), o.output(), o.format(), o.textField(), o.textSplit(),
                o.invalidUtf8(), PrepOptions.BadRecords.SKIP, o.tokenizer(), o.vocabSize(), o.seqLen(), o.dedup(),
                o.near(), o.valFraction(), o.shardMb(), o.partitions());
        PrepJob.Result r = prep(skip);
        assertThat(r.counters().get(PrepCounters.SKIPPED_BAD_RECORDS)).isEqualTo(1);
        assertThat(r.counters().get(PrepCounters.DOCUMENTS_READ)).isEqualTo(2);
    }

    @Test
    void aCorruptedShardIsDetectedByItsChecksumAndNamed() throws Exception {
        Path in = tmp.resolve("in");
        writeText(in, "a.txt", documents(8, 40));
        Path out = tmp.resolve("data");
        Manifest m = prep(options(List.of(in.toString()), out, 400, 32, PrepOptions.DedupMode.NONE, 0.1, 1, 0)).manifest();
        ShardInfo shard = m.shards(Manifest.TRAIN).get(0);
        Path file = out.resolve(shard.path());
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(file, bytes);
        FileSystem fs = FileSystem.getLocal(new Configuration());
        org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(out.toUri());
        assertThatThrownBy(() -> ShardReader.readAll(fs, dir, shard, m.seqLen())).isInstanceOf(CorruptShardException.class)
                .hasMessageContaining(shard.path());
        assertThatThrownBy(() -> DataDir.verify(fs, dir)).hasMessageContaining(shard.path());
    }

    @Test
    void settingsOfTheDataDirCannotChangeAndForeignDirsAreRefused() throws Exception {
        Path in = tmp.resolve("in");
        writeText(in, "a.txt", documents(9, 20));
        Path out = tmp.resolve("data");
        prep(options(List.of(in.toString()), out, 400, 32, PrepOptions.DedupMode.EXACT, 0.1, 1, 0));
        writeText(in, "b.txt", documents(10, 20));
        assertThatThrownBy(() -> prep(options(List.of(in.toString()), out, 400, 64, PrepOptions.DedupMode.EXACT, 0.1, 1,
                0))).hasMessageContaining("seq_len").hasMessageContaining("'64'").hasMessageContaining("'32'");

        Path foreign = tmp.resolve("foreign");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("notes.txt"), "mine");
        assertThatThrownBy(() -> prep(options(List.of(in.toString()), foreign, 400, 32, PrepOptions.DedupMode.EXACT,
                0.1, 1, 0))).hasMessageContaining("not empty and has no manifest.json");
        assertThat(foreign.resolve("notes.txt")).exists();

        assertThatThrownBy(() -> prep(options(List.of(tmp.resolve("nope/*.txt").toString()), tmp.resolve("x"), 400, 32,
                PrepOptions.DedupMode.EXACT, 0.1, 1, 0))).hasMessageContaining("nope/*.txt does not exist");

        Files.writeString(out.resolve(PrepJob.LOCK), "held");
        assertThatThrownBy(() -> prep(options(List.of(in.toString()), out, 400, 32, PrepOptions.DedupMode.EXACT, 0.1, 1,
                0))).hasMessageContaining("another prep run holds");
    }

    // ---------------------------------------------------------------- helpers

    /** Relative path → SHA-256 of every file under {@code dir}. */
    static Map<String, String> snapshot(Path dir) throws Exception {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                files.put(dir.relativize(p).toString().replace('\\', '/'),
                        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        }
        return files;
    }

    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("scripts/fetch-corpus"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the repository root above " + Path.of("").toAbsolutePath());
    }
}
