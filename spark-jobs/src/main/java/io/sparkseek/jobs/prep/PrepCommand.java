package io.sparkseek.jobs.prep;

import io.sparkseek.data.prep.NearDedupOptions;
import io.sparkseek.data.prep.PrepCounters;
import io.sparkseek.data.prep.PrepJob;
import io.sparkseek.data.prep.PrepOptions;
import io.sparkseek.data.shard.Manifest;
import io.sparkseek.jobs.SparkSessions;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code prep --input PATH... --output DIR ...}: the data-prep Spark job (ARCHITECTURE §2, §4). */
@Command(name = "prep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Corpus files -> cleaned, deduplicated documents -> byte-level BPE tokens -> Arrow shards "
                + "with a manifest. Re-running adds only new input files.", "Runs on the Spark of spark-submit, "
                + "or an embedded local[*] Spark."})
public final class PrepCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, arity = "1..*", paramLabel = "PATH",
            description = "input files, directories or globs (local, hdfs://, s3a://)")
    List<String> inputs;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "the data dir")
    String output;

    @Option(names = "--format", defaultValue = "auto",
            description = "auto (by extension: .jsonl/.ndjson/.json, .parquet, else text; .gz etc. decompressed), "
                    + "text, jsonl or parquet (default ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--text-field", defaultValue = PrepOptions.DEFAULT_TEXT_FIELD,
            description = "JSONL key or Parquet column with the text (default ${DEFAULT-VALUE})")
    String textField;

    @Option(names = "--text-split", defaultValue = "file",
            description = "plain text: where a document ends: file (one document per file), line, or paragraph "
                    + "(blank-line separated) (default ${DEFAULT-VALUE})")
    String textSplit;

    @Option(names = "--invalid-utf8", defaultValue = "replace",
            description = "a record that is not valid UTF-8: replace (U+FFFD), skip, or fail (default ${DEFAULT-VALUE})")
    String invalidUtf8;

    @Option(names = "--bad-records", defaultValue = "fail",
            description = "a malformed JSONL line or a record without text: fail or skip (default ${DEFAULT-VALUE})")
    String badRecords;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "use this HuggingFace tokenizer.json (byte-level BPE) instead of training one")
    String tokenizer;

    @Option(names = "--vocab-size", defaultValue = "" + PrepOptions.DEFAULT_VOCAB_SIZE,
            description = "vocabulary of the trained tokenizer (default ${DEFAULT-VALUE})")
    int vocabSize;

    @Option(names = "--seq-len", defaultValue = "" + PrepOptions.DEFAULT_SEQ_LEN,
            description = "tokens per training sequence; shards hold seq-len + 1 (default ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--dedup", defaultValue = "near",
            description = "none, exact (content hash) or near (exact, then MinHash LSH) (default ${DEFAULT-VALUE})")
    String dedup;

    @Option(names = "--near-threshold", defaultValue = "0.8",
            description = "Jaccard similarity of character shingles at which documents are near-duplicates "
                    + "(default ${DEFAULT-VALUE})")
    double nearThreshold;

    @Option(names = "--val-fraction", defaultValue = "" + PrepOptions.DEFAULT_VAL_FRACTION,
            description = "share of documents in the validation split, chosen by content hash (default ${DEFAULT-VALUE})")
    double valFraction;

    @Option(names = "--shard-mb", defaultValue = "" + PrepOptions.DEFAULT_SHARD_MB,
            description = "largest shard file in MiB (default ${DEFAULT-VALUE})")
    int shardMb;

    @Option(names = "--partitions", defaultValue = "0",
            description = "Spark partitions of the per-document stages; 0 = twice Spark's default parallelism "
                    + "(default ${DEFAULT-VALUE}); the output is the same for any value")
    int partitions;

    /** The validated options. */
    PrepOptions options() {
        NearDedupOptions d = NearDedupOptions.defaults();
        NearDedupOptions near = new NearDedupOptions(nearThreshold, d.shingleChars(), d.numHashTables(), d.seed());
        return new PrepOptions(inputs, output,
                PrepOptions.parse(PrepOptions.InputFormat.class, "--format", format), textField,
                PrepOptions.parse(PrepOptions.TextSplit.class, "--text-split", textSplit),
                PrepOptions.parse(PrepOptions.InvalidUtf8.class, "--invalid-utf8", invalidUtf8),
                PrepOptions.parse(PrepOptions.BadRecords.class, "--bad-records", badRecords),
                Optional.ofNullable(tokenizer), vocabSize, seqLen,
                PrepOptions.parse(PrepOptions.DedupMode.class, "--dedup", dedup), near, valFraction, shardMb,
                partitions);
    }

    @Override
    public Integer call() throws Exception {
        PrepOptions options = options();
        SparkSession spark = SparkSessions.getOrCreate("sparkseek prep");
        try {
            System.out.println("prep: " + SparkSessions.describe(spark));
            List<String> uris = new ArrayList<>(options.inputs());
            uris.add(options.output());
            String s3a = SparkSessions.s3aSettings(spark, uris);
            if (!s3a.isEmpty()) {
                System.out.print("prep: " + s3a);
            }
            long t0 = System.nanoTime();
            PrepJob.Result r = PrepJob.run(spark, options, System.out::println);
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.println(summary(r, seconds));
            return 0;
        } finally {
            spark.stop();
        }
    }

    /** The end-of-run summary: documents read, dropped, deduplicated; tokens; shards; bytes per token. */
    static String summary(PrepJob.Result r, double seconds) {
        Manifest m = r.manifest();
        StringBuilder sb = new StringBuilder();
        if (!r.changed()) {
            sb.append(String.format("prep: unchanged (%d sources, %d train + %d val sequences)%n", m.sources().size(),
                    m.totalSequences(Manifest.TRAIN), m.totalSequences(Manifest.VAL)));
            return sb.toString().strip();
        }
        PrepCounters c = r.counters();
        long docs = c.get(PrepCounters.DOCUMENTS_KEPT);
        long tokens = c.get(PrepCounters.TRAIN_TOKENS) + c.get(PrepCounters.VAL_TOKENS);
        long textTokens = tokens - docs; // without the EOS after each document
        sb.append(String.format("prep: done in %.1f s: %d new sources%n", seconds, r.newSources()));
        for (Map.Entry<String, Long> e : c.asMap().entrySet()) {
            sb.append(String.format("  %-22s %,d%n", e.getKey(), e.getValue()));
        }
        sb.append(String.format("  %-22s %.3f%n", "bytes_per_token", textTokens == 0 ? 0.0
                : (double) c.get(PrepCounters.TEXT_BYTES) / textTokens));
        sb.append(String.format("  data dir now: %d sources, %d train shards (%,d sequences), %d val shards (%,d "
                        + "sequences), seq_len %d, vocab %d", m.sources().size(), m.shards(Manifest.TRAIN).size(),
                m.totalSequences(Manifest.TRAIN), m.shards(Manifest.VAL).size(), m.totalSequences(Manifest.VAL),
                m.seqLen(), m.vocabSize()));
        return sb.toString();
    }
}
