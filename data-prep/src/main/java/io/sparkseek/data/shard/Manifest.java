package io.sparkseek.data.shard;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The contents of a data dir's {@code manifest.json} (ARCHITECTURE.md §3). Immutable and validated on
 * construction, so an invalid manifest can be neither read nor written. JSON: {@link ManifestJson}.
 *
 * @param format always {@link #FORMAT}
 * @param seqLen tokens per training sequence; every shard row holds seqLen + 1 tokens
 * @param tokenizer path of the tokenizer file relative to the data dir ({@value #TOKENIZER})
 * @param bosId beginning-of-sequence id, or -1 when the tokenizer has none (same for padId)
 * @param splits {@code train} then {@code val}, each a list of shards in reading order
 * @param sources the input files prepared so far, in the order they were added
 * @param runs one entry per prep run; their {@code sources} counts add up to {@code sources.size()}
 * @param dedupIndex {@link HashIndex} files with the exact-dedup hashes of all documents so far
 * @param settings prep settings that must not change across incremental runs (see {@link #requireSettings})
 */
public record Manifest(
        String format,
        int seqLen,
        int vocabSize,
        String tokenizer,
        String tokenizerSha256,
        int bosId,
        int eosId,
        int padId,
        Map<String, List<ShardInfo>> splits,
        List<SourceInfo> sources,
        List<RunInfo> runs,
        List<ShardInfo> dedupIndex,
        Map<String, String> settings) {

    public static final String FORMAT = "sparkseek-tokens/1";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String TRAIN = "train";
    public static final String VAL = "val";
    public static final List<String> SPLITS = List.of(TRAIN, VAL);

    public Manifest {
        if (!FORMAT.equals(format)) {
            throw new IllegalArgumentException("format is " + (format == null ? "missing" : "'" + format + "'")
                    + "; this build reads and writes only '" + FORMAT + "'");
        }
        if (seqLen < 1) {
            throw new IllegalArgumentException("seq_len must be >= 1, got " + seqLen);
        }
        if (vocabSize < 1) {
            throw new IllegalArgumentException("vocab_size must be >= 1, got " + vocabSize);
        }
        Checks.relativePath(tokenizer, "tokenizer");
        Checks.sha256(tokenizerSha256, "tokenizer_sha256");
        checkId(bosId, vocabSize, "bos_id", true);
        checkId(eosId, vocabSize, "eos_id", false);
        checkId(padId, vocabSize, "pad_id", true);
        splits = copySplits(splits, seqLen);
        sources = List.copyOf(Objects.requireNonNull(sources, "sources"));
        runs = List.copyOf(Objects.requireNonNull(runs, "runs"));
        dedupIndex = List.copyOf(Objects.requireNonNull(dedupIndex, "dedup_index"));
        settings = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(settings, "settings")));
        settings.forEach((k, v) -> {
            Checks.nonEmpty(k, "settings key");
            Objects.requireNonNull(v, () -> "settings." + k + " is null");
        });
        for (ShardInfo s : dedupIndex) {
            if (s.tokens() != 0) {
                throw new IllegalArgumentException("dedup_index entry " + s.path() + " has tokens " + s.tokens()
                        + "; hash-index entries carry a count (sequences) and tokens 0, as HashIndex.write returns them");
            }
        }
        checkRuns(runs, sources.size());
        checkUniquePaths(splits, dedupIndex);
    }

    /** A manifest with no shards, sources or runs yet. */
    public static Manifest create(int seqLen, int vocabSize, String tokenizerSha256, int bosId, int eosId,
            int padId, Map<String, String> settings) {
        return new Manifest(FORMAT, seqLen, vocabSize, TOKENIZER, tokenizerSha256, bosId, eosId, padId,
                Map.of(TRAIN, List.of(), VAL, List.of()), List.of(), List.of(), List.of(), settings);
    }

    /** The manifest as {@code manifest.json} bytes: fixed key order, 2-space indent, trailing newline. */
    public byte[] toJson() {
        return ManifestJson.write(this);
    }

    /**
     * Parses and validates {@code manifest.json} bytes; {@code file} is named in errors
     * ({@link ManifestException}, which also names the bad field).
     */
    public static Manifest fromJson(byte[] json, String file) {
        try {
            return ManifestJson.read(json);
        } catch (IllegalArgumentException e) {
            throw new ManifestException(file + ": " + e.getMessage(), e);
        }
    }

    /** The shards of {@code split} ({@value #TRAIN} or {@value #VAL}) in order. */
    public List<ShardInfo> shards(String split) {
        List<ShardInfo> list = splits.get(split);
        if (list == null) {
            throw new IllegalArgumentException("unknown split '" + split + "'; expected one of " + SPLITS);
        }
        return list;
    }

    public long totalSequences(String split) {
        return shards(split).stream().mapToLong(ShardInfo::sequences).sum();
    }

    public long totalTokens(String split) {
        return shards(split).stream().mapToLong(ShardInfo::tokens).sum();
    }

    /** Every file the manifest lists: train shards, val shards, then hash-index files. */
    public List<ShardInfo> allFiles() {
        List<ShardInfo> all = new ArrayList<>();
        splits.values().forEach(all::addAll);
        all.addAll(dedupIndex);
        return all;
    }

    /** This manifest with {@code shards} appended to {@code split}. */
    public Manifest withShards(String split, List<ShardInfo> shards) {
        Map<String, List<ShardInfo>> s = new LinkedHashMap<>(splits);
        List<ShardInfo> list = new ArrayList<>(shards(split));
        list.addAll(shards);
        s.put(split, list);
        return new Manifest(format, seqLen, vocabSize, tokenizer, tokenizerSha256, bosId, eosId, padId, s,
                sources, runs, dedupIndex, settings);
    }

    /** This manifest with one more run that added {@code newSources}, with its counters. */
    public Manifest withRun(List<SourceInfo> newSources, Map<String, Long> stats) {
        List<SourceInfo> src = new ArrayList<>(sources);
        src.addAll(newSources);
        List<RunInfo> r = new ArrayList<>(runs);
        r.add(new RunInfo(runs.size(), newSources.size(), stats));
        return new Manifest(format, seqLen, vocabSize, tokenizer, tokenizerSha256, bosId, eosId, padId, splits,
                src, r, dedupIndex, settings);
    }

    /** This manifest with its hash-index list replaced by {@code index}. */
    public Manifest withDedupIndex(List<ShardInfo> index) {
        return new Manifest(format, seqLen, vocabSize, tokenizer, tokenizerSha256, bosId, eosId, padId, splits,
                sources, runs, index, settings);
    }

    /**
     * Checks that an incremental run uses the settings this data dir was prepared with: same keys, same
     * values. The error names the first differing key, both values and the fix.
     */
    public void requireSettings(Map<String, String> requested) {
        Set<String> keys = new java.util.LinkedHashSet<>(settings.keySet());
        keys.addAll(requested.keySet());
        for (String key : keys) {
            String had = settings.get(key);
            String want = requested.get(key);
            if (!Objects.equals(had, want)) {
                throw new IllegalArgumentException("setting " + key + " is " + (want == null ? "unset" : "'" + want + "'")
                        + " but the data dir was prepared with " + (had == null ? "it unset" : "'" + had + "'")
                        + "; use the same settings to add to this data dir, or prepare into a new --output dir");
            }
        }
    }

    private static void checkId(int id, int vocabSize, String field, boolean mayBeAbsent) {
        int min = mayBeAbsent ? -1 : 0;
        if (id < min || id >= vocabSize) {
            throw new IllegalArgumentException(field + " must be in [" + min + ", vocab_size " + vocabSize + "), got " + id
                    + (mayBeAbsent ? " (-1 means the tokenizer has none)" : ""));
        }
    }

    private static Map<String, List<ShardInfo>> copySplits(Map<String, List<ShardInfo>> splits, int seqLen) {
        Objects.requireNonNull(splits, "splits");
        for (String key : splits.keySet()) {
            if (!SPLITS.contains(key)) {
                throw new IllegalArgumentException("splits." + key + " is not a known split; expected " + SPLITS);
            }
        }
        Map<String, List<ShardInfo>> copy = new LinkedHashMap<>();
        for (String split : SPLITS) {
            List<ShardInfo> list = splits.get(split);
            if (list == null) {
                throw new IllegalArgumentException("splits." + split + " is missing");
            }
            for (ShardInfo s : list) {
                if (s.sequences() > Long.MAX_VALUE / (seqLen + 1L) || s.tokens() != s.sequences() * (seqLen + 1L)) {
                    throw new IllegalArgumentException("splits." + split + " shard " + s.path() + " has tokens " + s.tokens()
                            + " but sequences " + s.sequences() + " x (seq_len " + seqLen + " + 1) = "
                            + s.sequences() * (seqLen + 1L));
                }
            }
            copy.put(split, List.copyOf(list));
        }
        return Collections.unmodifiableMap(copy);
    }

    private static void checkRuns(List<RunInfo> runs, int sourceCount) {
        long added = 0;
        for (int i = 0; i < runs.size(); i++) {
            if (runs.get(i).index() != i) {
                throw new IllegalArgumentException("runs[" + i + "].index is " + runs.get(i).index() + ", expected " + i);
            }
            added += runs.get(i).sources();
        }
        if (added != sourceCount) {
            throw new IllegalArgumentException("runs added " + added + " sources in total but sources lists "
                    + sourceCount);
        }
    }

    private static void checkUniquePaths(Map<String, List<ShardInfo>> splits, List<ShardInfo> dedupIndex) {
        Set<String> seen = new HashSet<>();
        List<ShardInfo> all = new ArrayList<>();
        splits.values().forEach(all::addAll);
        all.addAll(dedupIndex);
        for (ShardInfo s : all) {
            if (!seen.add(s.path())) {
                throw new IllegalArgumentException("path " + s.path() + " is listed more than once");
            }
        }
    }
}
