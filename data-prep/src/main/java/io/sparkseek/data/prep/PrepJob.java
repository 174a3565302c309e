package io.sparkseek.data.prep;

import io.sparkseek.data.shard.DataDir;
import io.sparkseek.data.shard.HashIndex;
import io.sparkseek.data.shard.Manifest;
import io.sparkseek.data.shard.ShardInfo;
import io.sparkseek.data.shard.ShardWriter;
import io.sparkseek.data.shard.SourceInfo;
import io.sparkseek.data.tokenizer.BpeTokenizer;
import io.sparkseek.data.tokenizer.BpeTrainer;
import io.sparkseek.data.tokenizer.PreTokenizer;
import io.sparkseek.data.tokenizer.TrainerOptions;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The prep job (ARCHITECTURE §2): input files → cleaned documents → exact and near dedup → tokenizer (loaded, or
 * trained with Spark) → token windows → Arrow shards + manifest in the data dir.
 *
 * <p>Incremental: the manifest lists every source (uri, size, modification time). A run reads only the inputs that
 * are not listed; with none it changes nothing. New documents are deduplicated exactly against every document
 * already in the data dir (the hash index), and near-duplicates are found among the new documents. A changed
 * source (same URI, other size or time) is an error, since its shards cannot be amended.
 *
 * <p>Nothing is half-written: shards and index files go to {@code _tmp/run-N-<uuid>/} first, move into place when
 * all exist, and the manifest, which is all a reader trusts, is committed last and atomically. A failed run
 * removes its files (the whole dir if the run created it); the previous manifest stays valid. {@code _prep.lock}
 * keeps two runs off one data dir.
 *
 * <p>Deterministic: documents are identified by (source index, ordinal) keys, every choice (dedup
 * representative, split, order in the stream) depends on keys and text only, so the same inputs give the same
 * bytes whatever the partitioning or retries.
 */
public final class PrepJob {
    static final String LOCK = "_prep.lock";
    static final String TMP = "_tmp";
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    private static final int STEPS = 7;

    private final SparkSession spark;
    private final JavaSparkContext sc;
    private final PrepOptions options;
    private final Consumer<String> log;
    private final long started = System.nanoTime();

    /** What a run did. {@code manifest} is the data dir's manifest after the run. */
    public record Result(Manifest manifest, PrepCounters counters, int newSources, boolean changed) {
    }

    private PrepJob(SparkSession spark, PrepOptions options, Consumer<String> log) {
        this.spark = spark;
        this.sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        this.options = options;
        this.log = log;
    }

    /** Runs prep with {@code options}; {@code log} receives one human line per step. */
    public static Result run(SparkSession spark, PrepOptions options, Consumer<String> log) throws IOException {
        return new PrepJob(spark, options, log).run();
    }

    private Result run() throws IOException {
        Configuration hadoop = sc.hadoopConfiguration();
        Path out = new Path(options.output());
        FileSystem fs = DataDir.fileSystem(out, hadoop);
        out = fs.makeQualified(out);
        boolean created = !fs.exists(out);
        if (!created && !fs.getFileStatus(out).isDirectory()) {
            throw new PrepInputException("--output " + out + " is a file, not a directory");
        }
        fs.mkdirs(out);
        Path lock = new Path(out, LOCK);
        try (OutputStream ignored = fs.create(lock, false)) {
            ignored.write(("prep started " + java.time.Instant.now() + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            throw new PrepInputException("another prep run holds " + lock + "; if none is running (a run was killed), "
                    + "delete that file and run again");
        }
        boolean ok = false;
        try {
            fs.delete(new Path(out, TMP), true); // what a killed run left behind; never referenced by a manifest
            Result r = runLocked(fs, out);
            ok = true;
            return r;
        } catch (Exception e) { // Spark's Java API throws the checked SparkException undeclared
            throw unwrapped(e);
        } finally {
            if (!ok && created) {
                fs.delete(out, true);
            } else {
                fs.delete(new Path(out, TMP), true);
                fs.delete(lock, false);
            }
        }
    }

    private Result runLocked(FileSystem fs, Path out) throws IOException {
        Optional<Manifest> previous = DataDir.readManifestIfPresent(fs, out);
        if (previous.isEmpty()) {
            requireEmpty(fs, out);
        } else {
            previous.get().requireSettings(options.fixedSettings());
        }
        // 1. sources
        step(1, "listing inputs");
        List<SourceLister.Listed> listed = SourceLister.list(options.inputs(), sc.hadoopConfiguration());
        List<SourceFile> fresh = newSources(listed, previous);
        if (fresh.isEmpty()) {
            log.accept("prep: nothing new: all " + listed.size() + " input files are already in " + out);
            return new Result(previous.orElseThrow(), new PrepCounters(), 0, false);
        }
        step(1, fresh.size() + " new input files (" + (listed.size() - fresh.size()) + " already prepared)");

        // 2. read and clean
        step(2, "reading and cleaning " + fresh.size() + " files");
        HadoopConf conf = new HadoopConf(sc.hadoopConfiguration());
        ReadRules rules = ReadRules.of(options);
        sc.setJobDescription("prep: read and clean " + fresh.size() + " files");
        JavaRDD<ReadItem> items = sc.parallelize(fresh, fresh.size()).flatMap(src -> new ReadItems(src,
                new DocumentReader(rules).open(new Path(src.uri()).getFileSystem(conf.get()), src)))
                .persist(StorageLevel.MEMORY_AND_DISK());
        List<ReadItem> perFile = items.filter(i -> i.counts() != null).collect();
        PrepCounters counters = new PrepCounters();
        Map<Integer, Long> docsPerSource = new HashMap<>();
        for (ReadItem i : perFile) {
            counters = counters.plus(i.counts());
            docsPerSource.put(i.source(), i.counts().get(PrepCounters.DOCUMENTS_READ));
        }
        int partitions = options.partitions() > 0 ? options.partitions() : Math.max(1, sc.defaultParallelism() * 2);
        JavaRDD<HashedDoc> docs = items.filter(i -> i.doc() != null)
                .map(i -> new HashedDoc(i.doc().key(), i.doc().text(), DocDigest.of(i.doc().text())))
                .repartition(partitions).persist(StorageLevel.MEMORY_AND_DISK());
        long cleaned = docs.count();
        items.unpersist();
        step(2, counters.get(PrepCounters.DOCUMENTS_READ) + " documents read, " + cleaned + " after cleaning");

        // 3. dedup
        int run = previous.map(m -> m.runs().size()).orElse(0);
        Path tmp = new Path(new Path(out, TMP), String.format("run-%05d-%s", run, UUID.randomUUID()));
        List<ShardInfo> newIndex = new ArrayList<>();
        JavaRDD<HashedDoc> kept = docs;
        if (options.dedup() != PrepOptions.DedupMode.NONE) {
            step(3, "exact dedup");
            long[] seen = existingHashes(fs, out, previous);
            Broadcast<long[]> seenB = sc.broadcast(seen);
            sc.setJobDescription("prep: exact dedup");
            JavaRDD<HashedDoc> unique = docs.mapToPair(d -> new Tuple2<>(d.digest().contentHash(), d))
                    .reduceByKey((a, b) -> a.key() < b.key() ? a : b).values()
                    .filter(d -> Arrays.binarySearch(seenB.value(), d.digest().contentHash()) < 0)
                    .persist(StorageLevel.MEMORY_AND_DISK());
            long uniqueCount = unique.count();
            counters.add(PrepCounters.EXACT_DUPLICATES, cleaned - uniqueCount);
            long[] hashes = unique.map(d -> d.digest().contentHash()).collect().stream()
                    .mapToLong(Long::longValue).sorted().toArray();
            newIndex.add(HashIndex.write(fs, tmp, String.format("dedup/exact-%05d.bin", run), hashes));
            kept = unique;
            step(3, (cleaned - uniqueCount) + " exact duplicates (" + seen.length + " documents already in the dir)");
            if (options.dedup() == PrepOptions.DedupMode.NEAR) {
                step(3, "near dedup (MinHash LSH, Jaccard >= " + options.near().threshold() + ")");
                sc.setJobDescription("prep: near dedup");
                StructType schema = new StructType().add("key", DataTypes.LongType, false)
                        .add("text", DataTypes.StringType, false);
                Dataset<Row> frame = spark.createDataFrame(unique.map(d -> RowFactory.create(d.key(), d.text())), schema);
                NearDedupResult near = NearDedup.find(frame, options.near());
                Broadcast<long[]> dropB = sc.broadcast(near.droppedKeys());
                kept = unique.filter(d -> Arrays.binarySearch(dropB.value(), d.key()) < 0);
                counters.add(PrepCounters.NEAR_DUPLICATES, near.droppedKeys().length);
                step(3, near.droppedKeys().length + " near-duplicates (" + near.candidatePairs() + " candidate pairs, "
                        + near.confirmedPairs() + " confirmed, " + near.clusters() + " clusters)");
            }
        }
        kept = kept.persist(StorageLevel.MEMORY_AND_DISK());
        long keptCount = kept.count();
        counters.add(PrepCounters.DOCUMENTS_KEPT, keptCount);
        if (keptCount == 0) {
            throw new PrepInputException("no documents left to prepare from " + fresh.size() + " new input files ("
                    + counters.asMap() + ")");
        }

        // 4. tokenizer
        step(4, "tokenizer");
        String tokenizerJson;
        boolean writeTokenizer = previous.isEmpty();
        if (previous.isPresent()) {
            tokenizerJson = readString(fs, new Path(out, previous.get().tokenizer()));
            String sha = sha256(tokenizerJson);
            if (!sha.equals(previous.get().tokenizerSha256())) {
                throw new PrepInputException(new Path(out, previous.get().tokenizer()) + " has sha256 " + sha
                        + " but the manifest says " + previous.get().tokenizerSha256() + "; restore the file");
            }
            if (options.tokenizer().isPresent()
                    && !sha256(readTokenizerArg(options.tokenizer().get())).equals(sha)) {
                throw new PrepInputException("--tokenizer " + options.tokenizer().get() + " differs from the data "
                        + "dir's tokenizer.json; a data dir has one tokenizer (prepare into a new --output dir)");
            }
            step(4, "using the data dir's tokenizer.json");
        } else if (options.tokenizer().isPresent()) {
            tokenizerJson = readTokenizerArg(options.tokenizer().get());
            step(4, "using " + options.tokenizer().get());
        } else {
            tokenizerJson = trainTokenizer(kept);
        }
        BpeTokenizer tokenizer = BpeTokenizer.fromJson(tokenizerJson);
        if (writeTokenizer) {
            writeString(fs, new Path(tmp, Manifest.TOKENIZER), tokenizerJson);
            writeString(fs, new Path(tmp, TOKENIZER_CONFIG), tokenizer.tokenizerConfigJson());
        }

        // 5. encode
        step(5, "encoding " + keptCount + " documents");
        sc.setJobDescription("prep: encode");
        Broadcast<String> tokB = sc.broadcast(tokenizerJson);
        double valFraction = options.valFraction();
        int eos = tokenizer.eosId();
        JavaRDD<Encoded> encoded = kept.mapPartitions(it -> {
            BpeTokenizer tok = BpeTokenizer.fromJson(tokB.value());
            List<Encoded> outDocs = new ArrayList<>();
            while (it.hasNext()) {
                HashedDoc d = it.next();
                int[] ids = tok.encodeOrdinary(d.text());
                int[] withEos = Arrays.copyOf(ids, ids.length + 1);
                withEos[ids.length] = eos;
                outDocs.add(new Encoded(d.key(), d.digest().isVal(valFraction), withEos,
                        d.text().getBytes(StandardCharsets.UTF_8).length));
            }
            return outDocs.iterator();
        }).persist(StorageLevel.MEMORY_AND_DISK());
        List<Tuple2<Long, long[]>> sizes = encoded.map(e -> new Tuple2<>(e.key(),
                new long[]{e.val() ? 1 : 0, e.tokens().length, e.textBytes()})).collect();
        for (Tuple2<Long, long[]> s : sizes) {
            boolean val = s._2()[0] == 1;
            counters.add(val ? PrepCounters.VAL_DOCUMENTS : PrepCounters.TRAIN_DOCUMENTS, 1);
            counters.add(val ? PrepCounters.VAL_TOKENS : PrepCounters.TRAIN_TOKENS, s._2()[1]);
            counters.add(PrepCounters.TEXT_BYTES, s._2()[2]);
        }
        step(5, (counters.get(PrepCounters.TRAIN_TOKENS) + counters.get(PrepCounters.VAL_TOKENS)) + " tokens");

        // 6. pack and write shards
        Map<String, List<ShardInfo>> shards = new HashMap<>();
        for (String split : Manifest.SPLITS) {
            boolean val = split.equals(Manifest.VAL);
            List<Tuple2<Long, long[]>> mine = sizes.stream().filter(s -> (s._2()[0] == 1) == val)
                    .sorted(Comparator.comparing(Tuple2::_1)).toList();
            long[] keys = mine.stream().mapToLong(Tuple2::_1).toArray();
            int[] lengths = mine.stream().mapToInt(s -> (int) s._2()[1]).toArray();
            PackPlan plan = PackPlan.of(keys, lengths, options.seqLen() + 1, options.rowsPerShard());
            counters.add(val ? PrepCounters.VAL_SEQUENCES : PrepCounters.TRAIN_SEQUENCES, plan.windows());
            counters.add(PrepCounters.DROPPED_TAIL_TOKENS, plan.droppedTailTokens());
            step(6, split + ": " + plan.windows() + " windows of " + (options.seqLen() + 1) + " tokens in "
                    + plan.shards() + " shards (" + plan.droppedTailTokens() + " tail tokens dropped)");
            shards.put(split, writeShards(split, run, plan, encoded.filter(e -> e.val() == val), tmp, conf));
        }
        encoded.unpersist();
        kept.unpersist();
        docs.unpersist();

        // 7. commit: move files into place, then the manifest
        step(7, "committing");
        Manifest base = previous.orElseGet(() -> Manifest.create(options.seqLen(), tokenizer.vocabSize(),
                sha256(tokenizerJson), idOrAbsent(tokenizer, true), eos, idOrAbsent(tokenizer, false),
                options.fixedSettings()));
        Manifest next = base;
        for (String split : Manifest.SPLITS) {
            next = next.withShards(split, shards.get(split));
        }
        List<ShardInfo> index = new ArrayList<>(base.dedupIndex());
        index.addAll(newIndex);
        next = next.withDedupIndex(index);
        List<SourceInfo> sources = fresh.stream().map(f -> new SourceInfo(f.uri(), f.size(), f.modified(),
                docsPerSource.getOrDefault(f.index(), 0L))).toList();
        next = next.withRun(sources, counters.asMap());
        List<String> moved = new ArrayList<>();
        if (writeTokenizer) {
            moved.add(Manifest.TOKENIZER);
            moved.add(TOKENIZER_CONFIG);
        }
        for (String split : Manifest.SPLITS) {
            shards.get(split).forEach(s -> moved.add(s.path()));
        }
        newIndex.forEach(s -> moved.add(s.path()));
        List<Path> placed = new ArrayList<>();
        try {
            for (String rel : moved) {
                Path to = new Path(out, rel);
                fs.mkdirs(to.getParent());
                fs.delete(to, false); // an unreferenced leftover of a failed run
                if (!fs.rename(new Path(tmp, rel), to)) {
                    throw new IOException("cannot move " + new Path(tmp, rel) + " to " + to);
                }
                placed.add(to);
            }
            DataDir.commitManifest(fs, out, next);
        } catch (IOException | RuntimeException e) {
            for (Path p : placed) {
                fs.delete(p, false);
            }
            throw e;
        }
        step(7, "manifest committed: " + out + "/manifest.json");
        return new Result(next, counters, fresh.size(), true);
    }

    /**
     * A task's input error as itself (one clear line), not inside Spark's stage-failure report; I/O and runtime
     * exceptions as they are.
     */
    private static IOException unwrapped(Exception e) throws IOException {
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof PrepInputException p) {
                throw new PrepInputException(p.getMessage(), e);
            }
        }
        if (e instanceof IOException io) {
            return io;
        }
        if (e instanceof RuntimeException r) {
            throw r;
        }
        throw new IllegalStateException("prep failed in Spark: " + e.getMessage(), e);
    }

    private String trainTokenizer(JavaRDD<HashedDoc> kept) {
        step(4, "training a byte-level BPE tokenizer, vocab " + options.vocabSize());
        sc.setJobDescription("prep: count pre-tokens for BPE training");
        Map<String, Long> counts = kept.mapPartitionsToPair(it -> {
            PreTokenizer pre = PreTokenizer.deepSeekV3();
            Map<String, Long> local = new HashMap<>();
            while (it.hasNext()) {
                for (String piece : pre.split(it.next().text())) {
                    local.merge(piece, 1L, Long::sum);
                }
            }
            return local.entrySet().stream().map(e -> new Tuple2<>(e.getKey(), e.getValue())).iterator();
        }).reduceByKey(Long::sum).collectAsMap();
        step(4, counts.size() + " distinct pre-tokens; merging on the driver");
        long t0 = System.nanoTime();
        BpeTokenizer trained = BpeTrainer.train(new HashMap<>(counts), TrainerOptions.defaults(options.vocabSize()));
        step(4, "trained " + trained.vocabSize() + " tokens in " + String.format("%.1f s", (System.nanoTime() - t0) / 1e9));
        return trained.toJson();
    }

    private List<ShardInfo> writeShards(String split, int run, PackPlan plan, JavaRDD<Encoded> docs, Path tmp,
                                        HadoopConf conf) {
        if (plan.shards() == 0) {
            return List.of();
        }
        sc.setJobDescription("prep: write " + plan.shards() + " " + split + " shards");
        int seqLen = options.seqLen();
        String tmpRoot = tmp.toString();
        JavaPairRDD<Integer, PackPlan.Fragment> fragments = docs.flatMapToPair(e -> plan.fragments(e.key(), e.tokens())
                .stream().map(f -> new Tuple2<>(f.shard(), f)).iterator());
        List<ShardInfo> written = fragments.partitionBy(new HashPartitioner(plan.shards()))
                .mapPartitionsWithIndex((shard, it) -> {
                    List<PackPlan.Fragment> mine = new ArrayList<>();
                    it.forEachRemaining(t -> mine.add(t._2()));
                    if (mine.isEmpty()) {
                        return java.util.Collections.<ShardInfo>emptyIterator();
                    }
                    int[] rows = plan.assemble(shard, mine);
                    Path root = new Path(tmpRoot);
                    FileSystem fs = DataDir.fileSystem(root, conf.get());
                    String rel = String.format("%s/part-%05d-%05d.arrow", split, run, shard);
                    fs.delete(new Path(root, rel), false); // a retried task's partial file
                    return List.of(ShardWriter.write(fs, root, rel, seqLen, rows, plan.rowsInShard(shard))).iterator();
                }, true).collect();
        List<ShardInfo> sorted = new ArrayList<>(written);
        sorted.sort(Comparator.comparing(ShardInfo::path));
        if (sorted.size() != plan.shards()) {
            throw new IllegalStateException(split + ": wrote " + sorted.size() + " shards, planned " + plan.shards());
        }
        return sorted;
    }

    private List<SourceFile> newSources(List<SourceLister.Listed> listed, Optional<Manifest> previous) {
        Map<String, SourceInfo> known = new HashMap<>();
        previous.ifPresent(m -> m.sources().forEach(s -> known.put(s.uri(), s)));
        int next = known.size();
        List<SourceFile> fresh = new ArrayList<>();
        for (SourceLister.Listed f : listed) {
            SourceInfo had = known.get(f.uri());
            if (had == null) {
                fresh.add(new SourceFile(next++, f.uri(), f.size(), f.modified()));
            } else if (had.size() != f.size() || had.modified() != f.modified()) {
                throw new PrepInputException("input " + f.uri() + " changed since it was prepared (size " + had.size()
                        + " -> " + f.size() + ", modified " + had.modified() + " -> " + f.modified() + "); shards "
                        + "cannot be amended: add changed data as a new file, or prepare into a new --output dir");
            }
        }
        return fresh;
    }

    private long[] existingHashes(FileSystem fs, Path out, Optional<Manifest> previous) throws IOException {
        if (previous.isEmpty()) {
            return new long[0];
        }
        List<long[]> parts = new ArrayList<>();
        for (ShardInfo f : previous.get().dedupIndex()) {
            parts.add(HashIndex.read(fs, out, f));
        }
        return parts.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    }

    private static void requireEmpty(FileSystem fs, Path out) throws IOException {
        for (FileStatus f : fs.listStatus(out)) {
            String name = f.getPath().getName();
            if (!name.equals(LOCK) && !name.equals(TMP)) {
                throw new PrepInputException("--output " + out + " is not empty and has no manifest.json (it holds "
                        + name + "); prepare into a new or empty directory");
            }
        }
    }

    private String readTokenizerArg(String uri) throws IOException {
        Path p = new Path(uri);
        try {
            return readString(p.getFileSystem(sc.hadoopConfiguration()), p);
        } catch (java.io.FileNotFoundException e) {
            throw new PrepInputException("--tokenizer " + uri + " does not exist");
        }
    }

    private static int idOrAbsent(BpeTokenizer tokenizer, boolean bos) {
        try {
            return bos ? tokenizer.bosId() : tokenizer.padId();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private void step(int i, String what) {
        log.accept(String.format("prep [%d/%d] %6.1fs  %s", i, STEPS, (System.nanoTime() - started) / 1e9, what));
    }

    static String readString(FileSystem fs, Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void writeString(FileSystem fs, Path p, String s) throws IOException {
        try (OutputStream o = fs.create(p, true)) {
            o.write(s.getBytes(StandardCharsets.UTF_8));
        }
    }

    static String sha256(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A document or, last for each file, that file's counts. */
    record ReadItem(Doc doc, PrepCounters counts, int source) implements Serializable {
    }

    /** A file's documents as they are read, then its counts: a task streams its file instead of holding it. */
    private static final class ReadItems implements java.util.Iterator<ReadItem> {
        private final SourceFile src;
        private final DocumentReader.Documents docs;
        private boolean countsSent;

        ReadItems(SourceFile src, DocumentReader.Documents docs) {
            this.src = src;
            this.docs = docs;
        }

        @Override
        public boolean hasNext() {
            return docs.hasNext() || !countsSent;
        }

        @Override
        public ReadItem next() {
            if (docs.hasNext()) {
                return new ReadItem(docs.next(), null, -1);
            }
            if (countsSent) {
                throw new java.util.NoSuchElementException();
            }
            countsSent = true;
            return new ReadItem(null, docs.counts(), src.index());
        }
    }

    /** A cleaned document with its digest. */
    record HashedDoc(long key, String text, DocDigest digest) implements Serializable {
    }

    /** A kept document's tokens (EOS appended), split and UTF-8 size. */
    record Encoded(long key, boolean val, int[] tokens, int textBytes) implements Serializable {
    }
}
