package io.sparkseek.data.prep;

import org.apache.spark.ml.feature.MinHashLSH;
import org.apache.spark.ml.feature.MinHashLSHModel;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.udf;

/**
 * Near-duplicate detection by character shingles and MinHash (Broder, "On the resemblance and containment of
 * documents", 1997), with Spark MLlib's {@link MinHashLSH} proposing candidate pairs.
 *
 * <ol>
 *   <li>Normalise: lower-case (Locale.ROOT), collapse every run of Unicode whitespace to one space, strip the ends.
 *       A null text is the empty text.</li>
 *   <li>Shingle: the set of all substrings of {@code shingleChars} code points. A text shorter than that (the empty
 *       text included) is one shingle, itself: such documents are near-duplicates only of an identical short text
 *       (after normalisation), never of a longer one.</li>
 *   <li>Hash each shingle into 2^30 binary features (FNV-1a 64 then a 64-bit finaliser; MinHashLSH accepts at most
 *       2038074743 features). Collisions inside a pair's ~10^3 shingles have probability ~10^-3 and only affect
 *       which pairs become candidates, never the confirmation.</li>
 *   <li>MLlib's {@link MinHashLSH} (seeded) computes {@code numHashTables} MinHash values per document; they are
 *       cut into bands ({@link Banding#forThreshold}: 24 bands of 5 at threshold 0.8), and documents that agree on
 *       every value of some band are candidates. Only (band, band signature, key) rows are shuffled.</li>
 *   <li>Confirm every candidate (keyA &lt; keyB) with the exact Jaccard similarity of the two shingle sets, on the
 *       executors, and keep those at or above the threshold.</li>
 *   <li>Union-find on the driver over the confirmed pairs; in each connected component the smallest key is kept and
 *       the others are dropped. Near-duplication is not transitive: a chain A~B, B~C puts A, B and C in one cluster
 *       even when A and C are below the threshold, and only A is kept.</li>
 * </ol>
 * The result depends only on the set of (key, text) rows and the options, never on partitioning or row order: the
 * MinHash functions come from the seed, the join is an equi-join on hash values, and union-find's components do not
 * depend on the order of the pairs.
 *
 * <p>Cost: MLlib's own {@code approxSimilarityJoin} is OR-only (a pair is compared when any one MinHash agrees) and
 * carries both shingle vectors through its join; at English prose's background similarity (~0.06 for 5-character
 * shingles, median over Brown documents 0.057) four tables made a fifth of all pairs candidates, and the 500 Brown
 * documents took 160 s. Banding makes unrelated pairs candidates with probability ~2e-5 and shuffles longs only.
 * Candidate pairs are collected to the driver for union-find.
 */
public final class NearDedup {

    /** Feature space of the hashed shingles: large enough that collisions are rare, within MinHashLSH's limit. */
    static final int FEATURE_SPACE = 1 << 30;

    static final String KEY = "key";
    static final String TEXT = "text";
    private static final String FEATURES = "shingleFeatures";
    private static final String HASHES = "minHashes";
    private static final String BAND = "band";
    private static final String SIGNATURE = "bandSignature";
    private static final String KEY_A = "keyA";
    private static final String KEY_B = "keyB";
    private static final String TEXT_A = "textA";
    private static final String TEXT_B = "textB";

    private static final Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);

    // FNV-1a 64-bit (Fowler, Noll, Vo; draft-eastlake-fnv) over UTF-16 code units.
    private static final long FNV_OFFSET_BASIS = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;
    // MurmurHash3's fmix64 finaliser (Appleby), so every input bit reaches the top bits we keep.
    private static final long FMIX_C1 = 0xff51afd7ed558ccdL;
    private static final long FMIX_C2 = 0xc4ceb9fe1a85ec53L;
    private static final int FMIX_SHIFT = 33;
    private static final int FEATURE_BITS = Integer.numberOfTrailingZeros(FEATURE_SPACE);

    private NearDedup() {
    }

    /**
     * Finds the near-duplicates in {@code docs}.
     *
     * @param docs    columns {@code key} (bigint, unique, not null; smaller = earlier) and {@code text} (string)
     * @param options threshold, shingle length, MinHash tables and seed
     * @return the keys to drop (all but the smallest of each cluster), with the pair and cluster counts
     */
    public static NearDedupResult find(Dataset<Row> docs, NearDedupOptions options) {
        Objects.requireNonNull(docs, "docs");
        Objects.requireNonNull(options, "options");
        checkSchema(docs.schema());
        long rows = checkKeys(docs);
        if (rows < 2) {
            return new NearDedupResult(new long[0], 0, 0, 0);
        }

        int n = options.shingleChars();
        UserDefinedFunction toFeatures = udf((UDF1<String, Vector>) text -> features(text, n),
                SQLDataTypes.VectorType());
        // Only the key travels with the vectors: MLlib's join carries whole rows through its shuffle and distinct.
        Dataset<Row> vectors = docs.select(col(KEY), toFeatures.apply(col(TEXT)).as(FEATURES));

        MinHashLSHModel model = new MinHashLSH()
                .setNumHashTables(options.numHashTables())
                .setSeed(options.seed())
                .setInputCol(FEATURES)
                .setOutputCol(HASHES)
                .fit(featureSpaceSample(docs.sparkSession()));
        Banding banding = Banding.forThreshold(options.threshold(), options.numHashTables());
        // (band, band signature, key) rows: only longs travel through the shuffle, never the vectors.
        JavaRDD<Row> bandRows = model.transform(vectors).select(col(KEY), col(HASHES)).javaRDD()
                .flatMap(row -> banding.bandRows(row.getLong(0), row.<Vector>getList(1)).iterator());
        StructType bandSchema = new StructType().add(BAND, DataTypes.IntegerType, false)
                .add(SIGNATURE, DataTypes.LongType, false).add(KEY, DataTypes.LongType, false);
        Dataset<Row> bands = docs.sparkSession().createDataFrame(bandRows, bandSchema);
        Dataset<Row> pairs = bands.toDF(BAND, SIGNATURE, KEY_A)
                .join(bands.toDF(BAND, SIGNATURE, KEY_B), scala.jdk.javaapi.CollectionConverters.asScala(
                        List.of(BAND, SIGNATURE)).toSeq())
                .filter(col(KEY_A).lt(col(KEY_B)))
                .select(col(KEY_A), col(KEY_B)).distinct();

        UserDefinedFunction similarity = udf(
                (UDF2<String, String, Double>) (a, b) -> jaccard(shingles(a, n), shingles(b, n)),
                DataTypes.DoubleType);
        Dataset<Row> texts = docs.select(col(KEY), col(TEXT));
        List<Row> candidates = pairs
                .join(texts.toDF(KEY_A, TEXT_A), KEY_A)
                .join(texts.toDF(KEY_B, TEXT_B), KEY_B)
                .select(col(KEY_A), col(KEY_B), similarity.apply(col(TEXT_A), col(TEXT_B)))
                .collectAsList();

        UnionFind clusters = new UnionFind();
        long confirmed = 0;
        for (Row pair : candidates) {
            if (pair.getDouble(2) >= options.threshold()) {
                confirmed++;
                clusters.union(pair.getLong(0), pair.getLong(1));
            }
        }
        return new NearDedupResult(clusters.nonRoots(), candidates.size(), confirmed, clusters.roots());
    }

    /** Lower-cased (Locale.ROOT), whitespace runs collapsed to one space, ends stripped; null is empty. */
    static String normalise(String text) {
        if (text == null) {
            return "";
        }
        return WHITESPACE.matcher(text.toLowerCase(Locale.ROOT)).replaceAll(" ").strip();
    }

    /** The set of {@code n}-code-point substrings of the normalised text; a shorter text is its own one shingle. */
    static Set<String> shingles(String text, int n) {
        String s = normalise(text);
        if (s.codePointCount(0, s.length()) <= n) {
            return Set.of(s);
        }
        Set<String> out = new HashSet<>();
        int start = 0;
        int end = s.offsetByCodePoints(0, n);
        while (true) {
            out.add(s.substring(start, end));
            if (end == s.length()) {
                return out;
            }
            start = s.offsetByCodePoints(start, 1);
            end = s.offsetByCodePoints(end, 1);
        }
    }

    /** |a ∩ b| / |a ∪ b|; both sets are non-empty by construction of {@link #shingles}. */
    static double jaccard(Set<String> a, Set<String> b) {
        Set<String> small = a.size() <= b.size() ? a : b;
        Set<String> large = small == a ? b : a;
        int common = 0;
        for (String s : small) {
            if (large.contains(s)) {
                common++;
            }
        }
        return (double) common / (a.size() + b.size() - common);
    }

    /** Binary sparse vector of the hashed shingles, of size {@link #FEATURE_SPACE}; never all-zero. */
    static Vector features(String text, int n) {
        int[] indices = shingles(text, n).stream().mapToInt(NearDedup::featureIndex).distinct().sorted().toArray();
        double[] ones = new double[indices.length];
        Arrays.fill(ones, 1.0);
        return Vectors.sparse(FEATURE_SPACE, indices, ones);
    }

    static int featureIndex(String shingle) {
        long h = FNV_OFFSET_BASIS;
        for (int i = 0; i < shingle.length(); i++) {
            h = (h ^ shingle.charAt(i)) * FNV_PRIME;
        }
        h ^= h >>> FMIX_SHIFT;
        h *= FMIX_C1;
        h ^= h >>> FMIX_SHIFT;
        h *= FMIX_C2;
        h ^= h >>> FMIX_SHIFT;
        return (int) (h >>> (Long.SIZE - FEATURE_BITS));
    }

    private static void checkSchema(StructType schema) {
        checkColumn(schema, KEY, DataTypes.LongType);
        checkColumn(schema, TEXT, DataTypes.StringType);
    }

    private static void checkColumn(StructType schema, String name, DataType type) {
        StructField field = Arrays.stream(schema.fields()).filter(f -> f.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("docs has no column '" + name + "' (" + type.sql()
                        + "); its columns are " + Arrays.toString(schema.fieldNames())));
        if (!field.dataType().equals(type)) {
            throw new IllegalArgumentException("docs column '" + name + "' must be " + type.sql() + ", was "
                    + field.dataType().sql());
        }
    }

    /** Rejects null and repeated keys (one job; a second only to name a repeated key); returns the row count. */
    private static long checkKeys(Dataset<Row> docs) {
        Row c = docs.agg(count(lit(1)), count(col(KEY)), countDistinct(col(KEY))).head();
        long rows = c.getLong(0);
        long nonNull = c.getLong(1);
        long distinct = c.getLong(2);
        if (nonNull < rows) {
            throw new IllegalArgumentException("docs has " + (rows - nonNull) + " rows with a null key");
        }
        if (distinct < rows) {
            Row repeated = docs.groupBy(col(KEY)).count().filter(col("count").gt(1)).head();
            throw new IllegalArgumentException("docs keys must be unique, but key " + repeated.getLong(0)
                    + " occurs " + repeated.getLong(1) + " times (" + (rows - distinct) + " repeats in all)");
        }
        return rows;
    }

    /** MinHashLSH.fit reads only the vector size from the first row; one row of the right size avoids a job. */
    private static Dataset<Row> featureSpaceSample(SparkSession spark) {
        StructType schema = new StructType().add(FEATURES, SQLDataTypes.VectorType(), false);
        Row row = RowFactory.create(Vectors.sparse(FEATURE_SPACE, new int[]{0}, new double[]{1.0}));
        return spark.createDataFrame(List.of(row), schema);
    }

    /** Disjoint sets over keys; each set's root is its smallest key, so the result is independent of union order. */
    private static final class UnionFind {
        private final Map<Long, Long> parent = new HashMap<>();

        long find(long key) {
            long root = key;
            for (Long p = parent.get(root); p != null && p != root; p = parent.get(root)) {
                root = p;
            }
            long cur = key;
            while (cur != root) {
                long next = parent.get(cur);
                parent.put(cur, root);
                cur = next;
            }
            return root;
        }

        void union(long a, long b) {
            parent.putIfAbsent(a, a);
            parent.putIfAbsent(b, b);
            long ra = find(a);
            long rb = find(b);
            if (ra != rb) {
                parent.put(Math.max(ra, rb), Math.min(ra, rb));
            }
        }

        /** Every key that is not its set's root, ascending. */
        long[] nonRoots() {
            return parent.keySet().stream().mapToLong(Long::longValue).filter(k -> find(k) != k).sorted().toArray();
        }

        long roots() {
            return parent.keySet().stream().filter(k -> find(k) == k).count();
        }
    }
}
