package io.sparkseek.data.shard;

import io.sparkseek.data.prep.HadoopConf;
import java.io.IOException;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The training job's view of a prepared data dir (ARCHITECTURE.md §3): its manifest, and the token rows of a
 * split by global row index. Global row i of a split is row i of the concatenation of that split's shards, in
 * manifest order, rows in file order.
 *
 * <p>Shards are read whole through the Hadoop FileSystem API with {@link ShardReader#readAll}, so each one's size
 * and sha256 are checked against the manifest before its rows are used. Decoded shards are kept in a
 * least-recently-used cache bounded by a byte budget ({@link #DEFAULT_CACHE_BYTES} unless given), so a task that
 * reads many batches from the same shards reads each file once. A shard larger than the budget is used for the
 * call that needed it and not kept.
 *
 * <p>Serializable as just (data dir URI, Hadoop configuration, cache budget): Spark ships it to tasks, and the
 * copy re-reads the manifest and starts with an empty cache on first use there. {@link #open} reads the manifest
 * at once, so a missing or invalid data dir is an error on the driver, before any task runs.
 *
 * <p>Threads: every method may be called from several threads (the methods that touch the manifest or the cache
 * lock the instance, so concurrent reads run one after another); meant for the threads of one task.
 */
public final class TokenDataset implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    /** Default bound of the decoded-shard cache: 256 MiB of int tokens. */
    public static final long DEFAULT_CACHE_BYTES = 256L << 20;
    /** Largest number of tokens one {@link #readRows} call returns (one int[]). */
    private static final long MAX_RESULT_TOKENS = Integer.MAX_VALUE - 8;

    private final String uri;
    private final HadoopConf conf;
    private final long cacheBytes;

    private transient State state;
    private transient LinkedHashMap<String, int[]> cache;
    private transient long cachedBytes;
    private transient long shardReads;

    /** What {@link #open} reads: the file system, the dir, its manifest, and each split's first global rows. */
    private record State(FileSystem fs, Path dir, Manifest manifest, Map<String, long[]> starts) {}

    private TokenDataset(String dataDirUri, Configuration conf, long cacheBytes) {
        this.uri = Objects.requireNonNull(dataDirUri, "dataDirUri");
        this.conf = new HadoopConf(Objects.requireNonNull(conf, "conf"));
        if (cacheBytes < 0) {
            throw new IllegalArgumentException("shard cache budget must be >= 0 bytes, got " + cacheBytes);
        }
        this.cacheBytes = cacheBytes;
    }

    /** Opens the data dir at {@code dataDirUri} (any Hadoop file system) with the default cache budget. */
    public static TokenDataset open(String dataDirUri, Configuration conf) throws IOException {
        return open(dataDirUri, conf, DEFAULT_CACHE_BYTES);
    }

    /**
     * Opens the data dir at {@code dataDirUri} and reads its manifest; a dir without one is the
     * {@link ManifestException} of {@link DataDir#readManifest}. {@code cacheBytes}: the decoded-shard cache's bound
     * (0: no cache).
     */
    public static TokenDataset open(String dataDirUri, Configuration conf, long cacheBytes) throws IOException {
        TokenDataset d = new TokenDataset(dataDirUri, conf, cacheBytes);
        d.state();
        return d;
    }

    /** The data dir URI this dataset was opened with. */
    public String uri() {
        return uri;
    }

    public long cacheBytes() {
        return cacheBytes;
    }

    /** The data dir's manifest (read on open, or on first use after deserialization). */
    public Manifest manifest() {
        return stateUnchecked().manifest();
    }

    /** Rows (sequences) in {@code split}; an unknown split is an error listing the known ones. */
    public long rows(String split) {
        return manifest().totalSequences(split);
    }

    /** Tokens per training sequence; each row holds seqLen + 1 tokens. */
    public int seqLen() {
        return manifest().seqLen();
    }

    public int vocabSize() {
        return manifest().vocabSize();
    }

    public String tokenizerSha256() {
        return manifest().tokenizerSha256();
    }

    /**
     * Rows {@code globalRows} of {@code split}, in the order asked (repeats allowed), flattened: row k of the
     * answer is {@code result[k*(seqLen+1) .. (k+1)*(seqLen+1))}. Every index is checked before any file is read.
     * Each needed shard is read at most once per call (from the cache when it is there). A shard whose bytes do
     * not match the manifest is a {@link CorruptShardException} naming it.
     */
    public synchronized int[] readRows(String split, long[] globalRows) throws IOException {
        State s = state();
        List<ShardInfo> shards = s.manifest().shards(split);
        long[] starts = s.starts().get(split);
        long total = starts[shards.size()];
        int width = s.manifest().seqLen() + 1;
        if ((long) globalRows.length * width > MAX_RESULT_TOKENS) {
            throw new IllegalArgumentException("asked for " + globalRows.length + " rows of " + width
                    + " tokens at once, more than one int[] holds; read them in smaller batches");
        }
        int[] shardOf = new int[globalRows.length];
        for (int k = 0; k < globalRows.length; k++) {
            long row = globalRows[k];
            if (row < 0 || row >= total) {
                throw new IndexOutOfBoundsException("row " + row + " is outside split '" + split + "' of " + s.dir()
                        + ", which has " + total + " rows (valid: 0 to " + (total - 1) + ")");
            }
            shardOf[k] = shardIndex(starts, row);
        }
        // Visit the asked rows grouped by shard, so each shard is fetched once even when the cache is too small.
        Integer[] order = new Integer[globalRows.length];
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
        }
        Arrays.sort(order, (a, b) -> Integer.compare(shardOf[a], shardOf[b]));
        int[] out = new int[globalRows.length * width];
        int[] tokens = null;
        int current = -1;
        for (int k : order) {
            if (shardOf[k] != current) {
                current = shardOf[k];
                tokens = shard(s, shards.get(current));
            }
            long inShard = globalRows[k] - starts[current];
            System.arraycopy(tokens, (int) (inShard * width), out, k * width, width);
        }
        return out;
    }

    /** How many shard files this instance has read since it was opened or deserialized (cache misses). */
    public synchronized long shardReads() {
        return shardReads;
    }

    /** Bytes of decoded shards now in the cache. */
    public synchronized long cachedBytes() {
        return cachedBytes;
    }

    private int[] shard(State s, ShardInfo info) throws IOException {
        int[] hit = cache.get(info.path());
        if (hit != null) {
            return hit;
        }
        int[] tokens = ShardReader.readAll(s.fs(), s.dir(), info, s.manifest().seqLen());
        shardReads++;
        long bytes = 4L * tokens.length;
        if (bytes <= cacheBytes) {
            Iterator<int[]> eldest = cache.values().iterator();
            while (cachedBytes + bytes > cacheBytes && eldest.hasNext()) {
                cachedBytes -= 4L * eldest.next().length;
                eldest.remove();
            }
            cache.put(info.path(), tokens);
            cachedBytes += bytes;
        }
        return tokens;
    }

    /** The shard holding global row {@code row}: the last i with starts[i] <= row, skipping empty shards. */
    private static int shardIndex(long[] starts, long row) {
        int lo = 0;
        int hi = starts.length - 2; // starts has shards + 1 entries
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= row) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    private State stateUnchecked() {
        try {
            return state();
        } catch (IOException e) {
            throw new UncheckedIOException("could not open data dir " + uri + ": " + e.getMessage(), e);
        }
    }

    private synchronized State state() throws IOException {
        if (state == null) {
            Path dir = new Path(uri);
            FileSystem fs = DataDir.fileSystem(dir, conf.get());
            Manifest manifest = DataDir.readManifest(fs, dir);
            Map<String, long[]> starts = new LinkedHashMap<>();
            for (String split : Manifest.SPLITS) {
                List<ShardInfo> shards = manifest.shards(split);
                long[] st = new long[shards.size() + 1];
                for (int i = 0; i < shards.size(); i++) {
                    st[i + 1] = st[i] + shards.get(i).sequences();
                }
                starts.put(split, st);
            }
            state = new State(fs, dir, manifest, Map.copyOf(starts));
            cache = new LinkedHashMap<>(16, 0.75f, true);
            cachedBytes = 0;
        }
        return state;
    }

    @Override
    public String toString() {
        return "TokenDataset[" + uri + ", cache " + cacheBytes + " bytes]";
    }
}
