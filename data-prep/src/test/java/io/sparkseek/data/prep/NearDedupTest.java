package io.sparkseek.data.prep;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * NearDedup in a real local Spark: hand-made cases with known answers, planted near-duplicates in generated prose
 * (recall and precision against exact all-pairs Jaccard), independence from partitioning and row order, and the
 * validation messages.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NearDedupTest {

    private static final NearDedupOptions DEFAULTS = NearDedupOptions.defaults();
    private static final int VOCABULARY = 3000;
    private static final long PROSE_SEED = 7L;
    /** How near the threshold the planted corpus must put its closest pairs on either side. */
    private static final double CLOSE_CALL = 0.02;

    private SparkSession spark;

    @BeforeAll
    void startSpark() {
        spark = SparkSession.builder().master("local[2]").appName("near-dedup-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
    }

    @AfterAll
    void stopSpark() {
        spark.stop();
    }

    // ---- hand-made cases -------------------------------------------------------------------------------------

    @Test
    void oneWordChangedInTwoHundredDropsTheLargerKey() {
        Prose prose = new Prose(PROSE_SEED);
        List<String> words = prose.words(200);
        String original = String.join(" ", words);
        List<String> edited = new ArrayList<>(words);
        edited.set(100, "zyzzyva");
        String copy = String.join(" ", edited);
        assertThat(exactJaccard(original, copy)).isGreaterThan(0.95).isLessThan(1.0);

        // the larger key comes first in row order: the choice must follow the key, not the order
        NearDedupResult r = find(List.of(doc(7, original), doc(3, copy), doc(11, prose.text(200))));

        assertThat(r.droppedKeys()).containsExactly(7L);
        assertThat(r.confirmedPairs()).isEqualTo(1);
        assertThat(r.clusters()).isEqualTo(1);
    }

    @Test
    void threeMutualNearDuplicatesKeepTheSmallestKey() {
        Prose prose = new Prose(PROSE_SEED + 1);
        List<String> words = prose.words(200);
        String a = String.join(" ", words);
        String b = String.join(" ", replace(words, 20, "quokka"));
        String c = String.join(" ", replace(words, 170, "axolotl"));
        assertThat(List.of(exactJaccard(a, b), exactJaccard(a, c), exactJaccard(b, c)))
                .allSatisfy(j -> assertThat(j).isGreaterThanOrEqualTo(DEFAULTS.threshold()));

        NearDedupResult r = find(List.of(doc(40, a), doc(12, b), doc(25, c), doc(30, prose.text(200))));

        assertThat(r.droppedKeys()).containsExactly(25L, 40L);
        assertThat(r.confirmedPairs()).isEqualTo(3);
        assertThat(r.clusters()).isEqualTo(1);
    }

    @Test
    void unrelatedTextsDropNothing() {
        Prose prose = new Prose(PROSE_SEED + 2);
        List<Row> docs = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            docs.add(doc(k, prose.text(200)));
        }

        NearDedupResult r = find(docs);

        assertThat(r.droppedKeys()).isEmpty();
        assertThat(r.confirmedPairs()).isZero();
        assertThat(r.clusters()).isZero();
    }

    /**
     * Documented behaviour: near-duplication is not transitive, but clusters are. A~B and B~C put A, B, C in one
     * cluster although A and C are below the threshold; the smallest key (A) is kept and C is dropped too.
     */
    @Test
    void aChainIsOneClusterThatKeepsItsSmallestKey() {
        Prose prose = new Prose(PROSE_SEED + 3);
        List<String> words = prose.words(200);
        List<String> first = new ArrayList<>(words);
        List<String> last = new ArrayList<>(words);
        for (int i = 0; i < 15; i++) {
            first.set(5 + 6 * i, "alpha" + i);
            last.set(105 + 6 * i, "omega" + i);
        }
        String a = String.join(" ", first);
        String b = String.join(" ", words);
        String c = String.join(" ", last);
        assertThat(exactJaccard(a, b)).isGreaterThanOrEqualTo(DEFAULTS.threshold());
        assertThat(exactJaccard(b, c)).isGreaterThanOrEqualTo(DEFAULTS.threshold());
        assertThat(exactJaccard(a, c)).isLessThan(DEFAULTS.threshold());

        NearDedupResult r = find(List.of(doc(3, c), doc(1, a), doc(2, b)));

        assertThat(r.droppedKeys()).containsExactly(2L, 3L);
        assertThat(r.confirmedPairs()).isEqualTo(2);
        assertThat(r.clusters()).isEqualTo(1);
    }

    /** Texts shorter than a shingle are one shingle, themselves (after normalisation): equal ones are duplicates. */
    @Test
    void shortAndEmptyTextsMatchOnlyIdenticalShortTexts() {
        Prose prose = new Prose(PROSE_SEED + 4);
        List<Row> docs = List.of(
                doc(1, ""), doc(2, "  \t "), doc(3, "Hi"), doc(4, "hi "), doc(5, "ok"),
                doc(6, "Hello   World"), doc(7, "hello world"),
                doc(8, "hi " + prose.text(100)), doc(9, "hi " + prose.text(100)));

        NearDedupResult r = find(docs);

        assertThat(r.droppedKeys()).containsExactly(2L, 4L, 7L);
        assertThat(r.clusters()).isEqualTo(3);
    }

    // ---- planted near-duplicates -------------------------------------------------------------------------------

    @Test
    void plantedNearDuplicatesAreFoundWithHighRecallAndPrecision() {
        Corpus corpus = Corpus.planted(new Random(11), 300, 100, 15, 15);
        Set<Long> truth = corpus.trueDrops(DEFAULTS.threshold());
        long[] bruteForce = bruteForceDrops(corpus.texts, DEFAULTS.threshold());

        long start = System.nanoTime();
        NearDedupResult r = find(corpus.rows());
        double seconds = (System.nanoTime() - start) / 1e9;

        Set<Long> dropped = Arrays.stream(r.droppedKeys()).boxed().collect(Collectors.toSet());
        long truePositives = dropped.stream().filter(truth::contains).count();
        double recall = (double) truePositives / truth.size();
        double precision = dropped.isEmpty() ? 1.0 : (double) truePositives / dropped.size();
        List<Double> plantedSims = corpus.planted.stream()
                .map(p -> exactJaccard(corpus.texts.get(p[0]), corpus.texts.get(p[1]))).sorted().toList();
        double lowestTrue = plantedSims.stream().filter(j -> j >= DEFAULTS.threshold()).findFirst().orElseThrow();
        double highestFalse = plantedSims.stream().filter(j -> j < DEFAULTS.threshold()).reduce((x, y) -> y)
                .orElseThrow();
        System.out.printf("NearDedup planted: %d docs, %d planted (%d at/above %.2f, lowest %.3f; %d below, "
                        + "highest %.3f), %s, recall %.4f, precision %.4f, %.2f s (numHashTables %d)%n",
                corpus.texts.size(), corpus.planted.size(), truth.size(), DEFAULTS.threshold(), lowestTrue,
                corpus.planted.size() - truth.size(), highestFalse, r, recall, precision, seconds,
                DEFAULTS.numHashTables());

        assertThat(truth.size()).as("true near-duplicates planted").isGreaterThan(40);
        assertThat(corpus.planted.size() - truth.size()).as("planted below the threshold").isGreaterThanOrEqualTo(10);
        assertThat(lowestTrue).as("a true near-duplicate close to the threshold")
                .isLessThan(DEFAULTS.threshold() + CLOSE_CALL);
        assertThat(highestFalse).as("a planted copy just below the threshold")
                .isGreaterThan(DEFAULTS.threshold() - CLOSE_CALL);
        assertThat(recall).isGreaterThanOrEqualTo(0.99);
        assertThat(precision).isEqualTo(1.0);
        assertThat(r.droppedKeys()).as("exact all-pairs Jaccard and union-find").containsExactly(bruteForce);
    }

    @Test
    void bandingMissesFewPairsAtTheThresholdAndFewUnrelatedOnes() {
        Banding b = Banding.forThreshold(0.8, 120);
        assertThat(b).isEqualTo(new Banding(24, 5));
        // independent formula: P(no band agrees) = (1 - s^r)^b
        assertThat(b.missProbability(0.8)).isCloseTo(Math.pow(1 - Math.pow(0.8, 5), 24), within(1e-15))
                .isLessThan(Banding.MAX_MISS_AT_THRESHOLD);
        assertThat(1 - b.missProbability(0.06)).isLessThan(1e-4);
        assertThat(Banding.forThreshold(0.5, 120).rows()).isEqualTo(2);
        assertThat(Banding.forThreshold(0.9, 120).rows()).isEqualTo(8);
        assertThat(Banding.forThreshold(0.05, 3)).as("none qualifies: one row per band").isEqualTo(new Banding(3, 1));
    }

    @Test
    void resultIgnoresPartitioningAndRowOrder() {
        Corpus corpus = Corpus.planted(new Random(13), 60, 30, 5, 5);
        List<Row> rows = new ArrayList<>(corpus.rows());

        NearDedupResult one = NearDedup.find(frame(rows).repartition(1), DEFAULTS);
        Collections.shuffle(rows, new Random(1));
        NearDedupResult three = NearDedup.find(frame(rows).repartition(3), DEFAULTS);

        assertThat(one.droppedKeys()).isNotEmpty();
        assertThat(three).isEqualTo(one);
    }

    // ---- validation ----------------------------------------------------------------------------------------

    @Test
    void optionsNameTheBadValue() {
        assertThatThrownBy(() -> DEFAULTS.withThreshold(0.0)).hasMessageContaining("threshold").hasMessageContaining("0.0");
        assertThatThrownBy(() -> DEFAULTS.withThreshold(1.5)).hasMessageContaining("1.5");
        assertThatThrownBy(() -> DEFAULTS.withThreshold(Double.NaN)).hasMessageContaining("NaN");
        assertThatThrownBy(() -> new NearDedupOptions(0.8, 0, 8, 1)).hasMessageContaining("shingleChars")
                .hasMessageContaining("was 0");
        assertThatThrownBy(() -> DEFAULTS.withNumHashTables(-2)).hasMessageContaining("numHashTables")
                .hasMessageContaining("-2");
        assertThat(DEFAULTS.withThreshold(1.0).threshold()).isEqualTo(1.0);
        assertThat(DEFAULTS).isEqualTo(new NearDedupOptions(0.8, 5, DEFAULTS.numHashTables(), DEFAULTS.seed()));
    }

    @Test
    void badInputIsRejectedByName() {
        Dataset<Row> noText = spark.range(3).toDF("key");
        assertThatThrownBy(() -> NearDedup.find(noText, DEFAULTS)).hasMessageContaining("'text'");

        Dataset<Row> intKey = spark.createDataFrame(List.of(RowFactory.create(1, "a")),
                new StructType().add("key", DataTypes.IntegerType).add("text", DataTypes.StringType));
        assertThatThrownBy(() -> NearDedup.find(intKey, DEFAULTS)).hasMessageContaining("'key'")
                .hasMessageContaining("BIGINT").hasMessageContaining("INT");

        assertThatThrownBy(() -> find(List.of(doc(1, "a"), doc(42, "b"), doc(42, "c"))))
                .hasMessageContaining("key 42 occurs 2 times");

        assertThatThrownBy(() -> find(List.of(doc(1, "a"), RowFactory.create(null, "b"))))
                .hasMessageContaining("1 rows with a null key");

        assertThat(find(List.of()).droppedKeys()).isEmpty();
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private NearDedupResult find(List<Row> rows) {
        return NearDedup.find(frame(rows), DEFAULTS);
    }

    private Dataset<Row> frame(List<Row> rows) {
        StructType schema = new StructType().add("key", DataTypes.LongType).add("text", DataTypes.StringType);
        return spark.createDataFrame(rows, schema);
    }

    private static Row doc(long key, String text) {
        return RowFactory.create(key, text);
    }

    private static List<String> replace(List<String> words, int at, String with) {
        List<String> out = new ArrayList<>(words);
        out.set(at, with);
        return out;
    }

    /** Reference shingling for texts that are already lower-case and single-spaced, as the generator makes them. */
    private static Set<String> referenceShingles(String text) {
        int n = DEFAULTS.shingleChars();
        Set<String> out = new HashSet<>();
        for (int i = 0; i + n <= text.length(); i++) {
            out.add(text.substring(i, i + n));
        }
        return out;
    }

    private static double exactJaccard(Set<String> a, Set<String> b) {
        int common = 0;
        for (String s : a) {
            if (b.contains(s)) {
                common++;
            }
        }
        return (double) common / (a.size() + b.size() - common);
    }

    private static double exactJaccard(String a, String b) {
        return exactJaccard(referenceShingles(a), referenceShingles(b));
    }

    /** Every pair's exact Jaccard, clusters by repeated relabelling to the smallest key, all but the smallest. */
    private static long[] bruteForceDrops(Map<Long, String> texts, double threshold) {
        List<Long> keys = new ArrayList<>(new TreeSet<>(texts.keySet()));
        List<Set<String>> sets = keys.stream().map(k -> referenceShingles(texts.get(k))).toList();
        Map<Long, Long> label = new HashMap<>();
        keys.forEach(k -> label.put(k, k));
        List<long[]> edges = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            for (int j = i + 1; j < keys.size(); j++) {
                int small = Math.min(sets.get(i).size(), sets.get(j).size());
                int large = Math.max(sets.get(i).size(), sets.get(j).size());
                // Jaccard <= small / large: most pairs need no set comparison
                if (small >= threshold * large && exactJaccard(sets.get(i), sets.get(j)) >= threshold) {
                    edges.add(new long[]{keys.get(i), keys.get(j)});
                }
            }
        }
        for (boolean changed = true; changed; ) {
            changed = false;
            for (long[] e : edges) {
                long m = Math.min(label.get(e[0]), label.get(e[1]));
                for (long k : e) {
                    if (label.get(k) != m) {
                        label.put(k, m);
                        changed = true;
                    }
                }
            }
        }
        return keys.stream().filter(k -> label.get(k).longValue() != k).mapToLong(Long::longValue).toArray();
    }

    /** Deterministic pseudo-English: a vocabulary of syllable words drawn with a Zipf-like skew. */
    private static final class Prose {
        private static final String[] ONSETS = {"b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "q",
                "r", "s", "t", "v", "w", "x", "y", "z", "st", "th", "ch", "br", "pl", "gr", "sh", "tr", "cr", "fl",
                "sp", "wh", "kn", "dr", "sl", "sc"};
        private static final String[] VOWELS = {"a", "e", "i", "o", "u", "y", "ea", "ou", "ai", "oo", "ie", "au"};
        private static final String[] CODAS = {"", "", "", "n", "r", "s", "t", "l", "m", "ck", "nd", "st", "x", "ph",
                "gh", "ng"};
        private static final int MAX_SYLLABLES = 3;
        /**
         * Word rank = vocabulary size * u^skew. With these syllables, 1.5 gives unrelated 150-400-word documents a
         * median 5-shingle Jaccard of ~0.07; 300-word chunks of the Brown Corpus have 0.057. A higher skew makes
         * unrelated documents more alike, so more MinHash bucket matches for the join to check.
         */
        private static final double ZIPF_SKEW = 1.5;

        private final String[] vocabulary;
        private final Random random;

        Prose(long seed) {
            random = new Random(seed);
            Random words = new Random(PROSE_SEED);
            Set<String> vocab = new LinkedHashSet<>();
            while (vocab.size() < VOCABULARY) {
                StringBuilder w = new StringBuilder();
                int syllables = 1 + words.nextInt(MAX_SYLLABLES);
                for (int s = 0; s < syllables; s++) {
                    w.append(ONSETS[words.nextInt(ONSETS.length)]).append(VOWELS[words.nextInt(VOWELS.length)])
                            .append(CODAS[words.nextInt(CODAS.length)]);
                }
                vocab.add(w.toString());
            }
            vocabulary = vocab.toArray(new String[0]);
        }

        String word() {
            return vocabulary[(int) (vocabulary.length * Math.pow(random.nextDouble(), ZIPF_SKEW))];
        }

        List<String> words(int count) {
            List<String> out = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                out.add(word());
            }
            return out;
        }

        String text(int count) {
            return String.join(" ", words(count));
        }
    }

    /**
     * Originals of 150-400 words and near-duplicates planted from distinct originals by replacing, inserting or
     * deleting words: most with 2-10% of the words edited, {@code boundary} of them with 12-18% (similarity around
     * 0.8, either side), {@code far} of them with 20-30% (true negatives). Keys
     * are a random permutation, so the copy is sometimes the earlier document.
     */
    private static final class Corpus {
        private static final int MIN_WORDS = 150;
        private static final int MAX_WORDS = 400;
        private static final double NEAR_MIN_EDITS = 0.02;
        private static final double NEAR_MAX_EDITS = 0.10;
        private static final double BOUNDARY_MIN_EDITS = 0.12;
        private static final double BOUNDARY_MAX_EDITS = 0.18;
        private static final double FAR_MIN_EDITS = 0.20;
        private static final double FAR_MAX_EDITS = 0.30;
        private static final int EDIT_KINDS = 3;

        final Map<Long, String> texts = new HashMap<>();
        /** Planted pairs as {original key, copy key}. */
        final List<long[]> planted = new ArrayList<>();

        static Corpus planted(Random random, int originals, int copies, int far, int boundary) {
            Prose prose = new Prose(random.nextLong());
            List<Long> keys = new ArrayList<>();
            for (long k = 0; k < originals + copies; k++) {
                keys.add(k * 10 + random.nextInt(10));
            }
            Collections.shuffle(keys, random);
            Corpus c = new Corpus();
            List<List<String>> source = new ArrayList<>();
            for (int i = 0; i < originals; i++) {
                List<String> words = prose.words(MIN_WORDS + random.nextInt(MAX_WORDS - MIN_WORDS + 1));
                source.add(words);
                c.texts.put(keys.get(i), String.join(" ", words));
            }
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < originals; i++) {
                order.add(i);
            }
            Collections.shuffle(order, random);
            for (int j = 0; j < copies; j++) {
                int from = order.get(j);
                double u = random.nextDouble();
                double rate = j < far ? FAR_MIN_EDITS + (FAR_MAX_EDITS - FAR_MIN_EDITS) * u
                        : j < far + boundary ? BOUNDARY_MIN_EDITS + (BOUNDARY_MAX_EDITS - BOUNDARY_MIN_EDITS) * u
                        : NEAR_MIN_EDITS + (NEAR_MAX_EDITS - NEAR_MIN_EDITS) * u;
                List<String> words = new ArrayList<>(source.get(from));
                int edits = Math.max(1, (int) Math.round(rate * words.size()));
                for (int e = 0; e < edits; e++) {
                    int at = random.nextInt(words.size());
                    switch (random.nextInt(EDIT_KINDS)) {
                        case 0 -> words.set(at, prose.word());
                        case 1 -> words.add(at, prose.word());
                        default -> words.remove(at);
                    }
                }
                long copyKey = keys.get(originals + j);
                c.texts.put(copyKey, String.join(" ", words));
                c.planted.add(new long[]{keys.get(from), copyKey});
            }
            return c;
        }

        /** For each planted pair at or above the threshold, the later of the two. */
        Set<Long> trueDrops(double threshold) {
            return planted.stream().filter(p -> exactJaccard(texts.get(p[0]), texts.get(p[1])) >= threshold)
                    .map(p -> Math.max(p[0], p[1])).collect(Collectors.toSet());
        }

        List<Row> rows() {
            return texts.entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .map(e -> doc(e.getKey(), e.getValue())).toList();
        }
    }
}
