package io.sparkseek.data.prep;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The named counts of one prep run, in a fixed order: what was read, what was dropped and why, what was kept, and
 * the tokens it became. Stored per run in the manifest and printed in the summary. Mergeable, so each Spark task
 * counts its own files and the driver adds them up.
 */
public final class PrepCounters implements Serializable {
    public static final String DOCUMENTS_READ = "documents_read";
    public static final String DROPPED_EMPTY = "dropped_empty";
    public static final String DROPPED_INVALID_UTF8 = "dropped_invalid_utf8";
    public static final String REPLACED_INVALID_UTF8 = "replaced_invalid_utf8";
    public static final String SKIPPED_BAD_RECORDS = "skipped_bad_records";
    public static final String EXACT_DUPLICATES = "exact_duplicates";
    public static final String NEAR_DUPLICATES = "near_duplicates";
    public static final String DOCUMENTS_KEPT = "documents_kept";
    public static final String TRAIN_DOCUMENTS = "train_documents";
    public static final String VAL_DOCUMENTS = "val_documents";
    public static final String TEXT_BYTES = "text_bytes";
    public static final String TRAIN_TOKENS = "train_tokens";
    public static final String VAL_TOKENS = "val_tokens";
    public static final String TRAIN_SEQUENCES = "train_sequences";
    public static final String VAL_SEQUENCES = "val_sequences";
    public static final String DROPPED_TAIL_TOKENS = "dropped_tail_tokens";

    private static final String[] ORDER = {DOCUMENTS_READ, DROPPED_EMPTY, DROPPED_INVALID_UTF8, REPLACED_INVALID_UTF8,
            SKIPPED_BAD_RECORDS, EXACT_DUPLICATES, NEAR_DUPLICATES, DOCUMENTS_KEPT, TRAIN_DOCUMENTS, VAL_DOCUMENTS,
            TEXT_BYTES, TRAIN_TOKENS, VAL_TOKENS, TRAIN_SEQUENCES, VAL_SEQUENCES, DROPPED_TAIL_TOKENS};

    private final LinkedHashMap<String, Long> counts = new LinkedHashMap<>();

    public PrepCounters() {
        for (String name : ORDER) {
            counts.put(name, 0L);
        }
    }

    /** Adds {@code n} to a counter. */
    public void add(String name, long n) {
        if (!counts.containsKey(name)) {
            throw new IllegalArgumentException("unknown prep counter " + name);
        }
        counts.merge(name, n, Long::sum);
    }

    public long get(String name) {
        Long v = counts.get(name);
        if (v == null) {
            throw new IllegalArgumentException("unknown prep counter " + name);
        }
        return v;
    }

    /** This plus {@code other}, as a new object. */
    public PrepCounters plus(PrepCounters other) {
        PrepCounters sum = new PrepCounters();
        counts.forEach(sum::add);
        other.counts.forEach(sum::add);
        return sum;
    }

    /** The counts in their fixed order (a copy). */
    public Map<String, Long> asMap() {
        return new LinkedHashMap<>(counts);
    }
}
