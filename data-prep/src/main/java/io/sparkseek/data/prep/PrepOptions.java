package io.sparkseek.data.prep;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Everything {@code scripts/sparkseek prep} is told, validated once (ARCHITECTURE §4).
 *
 * @param inputs      paths, directories or globs on any Hadoop file system (file:, hdfs://, s3a://)
 * @param output      the data dir
 * @param format      how to read each input file ({@link InputFormat#AUTO}: by extension)
 * @param textField   JSONL key or Parquet column holding the document text
 * @param textSplit   where a document ends in a plain-text file
 * @param invalidUtf8 what to do with a record that is not valid UTF-8
 * @param badRecords  what to do with a malformed JSONL line or a record without text
 * @param tokenizer   an existing HF tokenizer.json to use instead of training one
 * @param vocabSize   vocabulary size of the tokenizer trained when none is given
 * @param seqLen      tokens per training sequence; shards hold windows of seqLen + 1
 * @param dedup       none, exact (content hash) or near (exact, then MinHash LSH)
 * @param near        near-duplicate settings
 * @param valFraction share of documents (by content hash) in the validation split
 * @param shardMb     upper bound of one shard file in MiB
 * @param partitions  Spark partitions for the per-document stages (0: twice the default parallelism); the output
 *                    does not depend on it
 */
public record PrepOptions(List<String> inputs, String output, InputFormat format, String textField,
                          TextSplit textSplit, InvalidUtf8 invalidUtf8, BadRecords badRecords,
                          Optional<String> tokenizer, int vocabSize, int seqLen, DedupMode dedup,
                          NearDedupOptions near, double valFraction, int shardMb,
                          int partitions) {

    public static final String DEFAULT_TEXT_FIELD = "text";
    public static final int DEFAULT_VOCAB_SIZE = 8192;
    public static final int DEFAULT_SEQ_LEN = 256;
    public static final double DEFAULT_VAL_FRACTION = 0.01;
    public static final int DEFAULT_SHARD_MB = 64;
    /** The rule that assigns a document to train or val; stored in the manifest. */
    public static final String SPLIT_RULE = "sha256-text/1";

    public PrepOptions {
        inputs = List.copyOf(inputs);
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("prep needs at least one --input path");
        }
        if (output == null || output.isBlank()) {
            throw new IllegalArgumentException("prep needs --output DIR");
        }
        if (textField == null || textField.isBlank()) {
            throw new IllegalArgumentException("--text-field must not be empty");
        }
        if (vocabSize < 259 || vocabSize > (1 << 24)) {
            throw new IllegalArgumentException("--vocab-size must be in [259, 16777216] (3 special tokens + 256 bytes "
                    + "at least), got " + vocabSize);
        }
        if (seqLen < 1 || seqLen > (1 << 20)) {
            throw new IllegalArgumentException("--seq-len must be in [1, 1048576], got " + seqLen);
        }
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw new IllegalArgumentException("--val-fraction must be in [0, 1), got " + valFraction);
        }
        if (shardMb < 1 || shardMb > 2047) {
            throw new IllegalArgumentException("--shard-mb must be in [1, 2047], got " + shardMb);
        }
        if (partitions < 0) {
            throw new IllegalArgumentException("--partitions must be >= 0 (0 = automatic), got " + partitions);
        }
        if ((long) (seqLen + 1) * Integer.BYTES > (long) shardMb << 20) {
            throw new IllegalArgumentException("--shard-mb " + shardMb + " cannot hold one window of " + (seqLen + 1)
                    + " int32 tokens; raise --shard-mb");
        }
    }

    /** Windows (rows) per shard so that a shard stays within {@link #shardMb()}. */
    public int rowsPerShard() {
        return (int) Math.max(1, ((long) shardMb << 20) / ((long) (seqLen + 1) * Integer.BYTES));
    }

    /**
     * The settings that decide what a data dir contains; stored in the manifest and required to be equal on every
     * incremental run (mixing them would make one data dir hold two different things).
     */
    public Map<String, String> fixedSettings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("seq_len", Integer.toString(seqLen));
        s.put("text_rules", TextCleaner.RULES);
        s.put("text_split", textSplit.flag());
        s.put("text_field", textField);
        s.put("dedup", dedup.flag());
        if (dedup == DedupMode.NEAR) {
            s.put("near_threshold", Double.toString(near.threshold()));
            s.put("near_shingle_chars", Integer.toString(near.shingleChars()));
            s.put("near_hash_tables", Integer.toString(near.numHashTables()));
            s.put("near_seed", Long.toString(near.seed()));
        }
        s.put("val_fraction", Double.toString(valFraction));
        s.put("split_rule", SPLIT_RULE);
        return s;
    }

    /** How an input file is read. */
    public enum InputFormat {
        AUTO, TEXT, JSONL, PARQUET;

        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Where a document ends in a plain-text file. */
    public enum TextSplit {
        /** the whole file is one document */
        FILE,
        /** every line is a document */
        LINE,
        /** documents are separated by one or more blank (whitespace-only) lines */
        PARAGRAPH;

        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What to do with a record that is not valid UTF-8. */
    public enum InvalidUtf8 {
        /** decode with U+FFFD in place of each bad sequence; counted */
        REPLACE,
        /** drop the record; counted */
        SKIP,
        /** stop with an error naming the file and the record */
        FAIL;

        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What to do with a malformed JSONL line or a record without a text value. */
    public enum BadRecords {
        /** stop with an error naming the file and line */
        FAIL,
        /** drop the record; counted */
        SKIP;

        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Which duplicates are removed. */
    public enum DedupMode {
        NONE, EXACT, NEAR;

        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Parses a flag value of one of the enums above, with an error naming the flag and the choices. */
    public static <E extends Enum<E>> E parse(Class<E> type, String flag, String value) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(value)) {
                return e;
            }
        }
        StringBuilder choices = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            choices.append(choices.length() == 0 ? "" : "|").append(e.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException(flag + " must be " + choices + ", got '" + value + "'");
    }
}
