package io.sparkseek.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenDatasetTest {
    private static final int SEQ_LEN = 4;
    private static final int WIDTH = SEQ_LEN + 1;
    /** Train shard sizes in rows; the empty one must be skipped when mapping global rows. */
    private static final int[] TRAIN_ROWS = {5, 0, 3, 7};
    private static final int VAL_ROWS = 2;

    @TempDir java.nio.file.Path tmp;
    private final Configuration conf = new Configuration();
    private String uri;
    private final List<ShardInfo> train = new ArrayList<>();

    /** Shard s (val: 100), row r, column c holds s * 1_000_000 + r * 100 + c. */
    private static int token(int shard, int row, int col) {
        return shard * 1_000_000 + row * 100 + col;
    }

    private static int[] shardTokens(int shard, int rows) {
        int[] t = new int[rows * WIDTH];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < WIDTH; c++) {
                t[r * WIDTH + c] = token(shard, r, c);
            }
        }
        return t;
    }

    @BeforeEach
    void writeDataDir() throws IOException {
        Path dir = Fixtures.hadoopPath(tmp);
        FileSystem fs = DataDir.fileSystem(dir, conf);
        for (int s = 0; s < TRAIN_ROWS.length; s++) {
            String path = "train/part-00000-0000" + s + ".arrow";
            train.add(ShardWriter.write(fs, dir, path, SEQ_LEN, shardTokens(s, TRAIN_ROWS[s]), TRAIN_ROWS[s]));
        }
        ShardInfo val = ShardWriter.write(fs, dir, "val/part-00000-00000.arrow", SEQ_LEN, shardTokens(100, VAL_ROWS),
                VAL_ROWS);
        Manifest m = Manifest.create(SEQ_LEN, 512, Fixtures.SHA_B, 1, 2, -1, Fixtures.settings())
                .withShards(Manifest.TRAIN, train)
                .withShards(Manifest.VAL, List.of(val));
        DataDir.commitManifest(fs, dir, m);
        uri = dir.toString();
    }

    /** The expected tokens of global train row {@code row}. */
    private static int[] expectedTrainRow(long row) {
        long r = row;
        for (int s = 0; s < TRAIN_ROWS.length; s++) {
            if (r < TRAIN_ROWS[s]) {
                int[] t = new int[WIDTH];
                for (int c = 0; c < WIDTH; c++) {
                    t[c] = token(s, (int) r, c);
                }
                return t;
            }
            r -= TRAIN_ROWS[s];
        }
        throw new AssertionError("row " + row + " is past the fixture");
    }

    private static int[] expectedTrainRows(long... rows) {
        int[] out = new int[rows.length * WIDTH];
        for (int k = 0; k < rows.length; k++) {
            System.arraycopy(expectedTrainRow(rows[k]), 0, out, k * WIDTH, WIDTH);
        }
        return out;
    }

    @Test
    void exposesTheManifest() throws IOException {
        TokenDataset d = TokenDataset.open(uri, conf);
        assertThat(d.rows(Manifest.TRAIN)).isEqualTo(15);
        assertThat(d.rows(Manifest.VAL)).isEqualTo(VAL_ROWS);
        assertThat(d.seqLen()).isEqualTo(SEQ_LEN);
        assertThat(d.vocabSize()).isEqualTo(512);
        assertThat(d.tokenizerSha256()).isEqualTo(Fixtures.SHA_B);
        assertThat(d.cacheBytes()).isEqualTo(TokenDataset.DEFAULT_CACHE_BYTES);
        assertThat(d.uri()).isEqualTo(uri);
        assertThatThrownBy(() -> d.rows("test")).hasMessageContaining("unknown split 'test'");
    }

    @Test
    void readsEveryRowExactlyAsWrittenAcrossShardBoundaries() throws IOException {
        TokenDataset d = TokenDataset.open(uri, conf);
        long[] all = LongStream.range(0, 15).toArray();
        assertThat(d.readRows(Manifest.TRAIN, all)).isEqualTo(expectedTrainRows(all));
        // the rows either side of each boundary (4|5 crosses the empty shard, 7|8)
        assertThat(d.readRows(Manifest.TRAIN, new long[] {4, 5})).containsExactly(
                token(0, 4, 0), token(0, 4, 1), token(0, 4, 2), token(0, 4, 3), token(0, 4, 4),
                token(2, 0, 0), token(2, 0, 1), token(2, 0, 2), token(2, 0, 3), token(2, 0, 4));
        assertThat(d.readRows(Manifest.TRAIN, new long[] {7, 8})).isEqualTo(expectedTrainRows(7, 8));
        assertThat(d.readRows(Manifest.TRAIN, new long[] {14})).startsWith(token(3, 6, 0));
        assertThat(d.readRows(Manifest.VAL, new long[] {1, 0})).containsExactly(
                token(100, 1, 0), token(100, 1, 1), token(100, 1, 2), token(100, 1, 3), token(100, 1, 4),
                token(100, 0, 0), token(100, 0, 1), token(100, 0, 2), token(100, 0, 3), token(100, 0, 4));
        assertThat(d.readRows(Manifest.TRAIN, new long[0])).isEmpty();
    }

    @Test
    void returnsRowsInTheOrderAskedWithRepeats() throws IOException {
        TokenDataset d = TokenDataset.open(uri, conf);
        long[] rows = {14, 0, 7, 7, 3, 14, 5, 0, 11};
        assertThat(d.readRows(Manifest.TRAIN, rows)).isEqualTo(expectedTrainRows(rows));
    }

    @Test
    void readsTheRowsABatchPlanAssigns() throws IOException {
        TokenDataset d = TokenDataset.open(uri, conf);
        BatchPlan plan = BatchPlan.of(3, d.rows(Manifest.TRAIN), 8, 2);
        for (long g = 0; g < 6; g++) {
            long[] rows = plan.rows(g, 1);
            assertThat(d.readRows(Manifest.TRAIN, rows)).isEqualTo(expectedTrainRows(rows));
        }
    }

    @Test
    void aCachedShardIsNotReadAgain() throws IOException {
        TokenDataset d = TokenDataset.open(uri, conf);
        d.readRows(Manifest.TRAIN, new long[] {0, 1});
        assertThat(d.shardReads()).isEqualTo(1);
        d.readRows(Manifest.TRAIN, new long[] {4, 2, 3});
        assertThat(d.shardReads()).isEqualTo(1);
        d.readRows(Manifest.TRAIN, new long[] {14, 0, 8}); // shard 3 twice, shard 0 cached
        assertThat(d.shardReads()).isEqualTo(2);
        d.readRows(Manifest.TRAIN, LongStream.range(0, 15).toArray()); // adds shard 2
        assertThat(d.shardReads()).isEqualTo(3);
        assertThat(d.cachedBytes()).isEqualTo(4L * WIDTH * 15);
    }

    @Test
    void theCacheStaysWithinItsBudgetAndEvictsTheLeastRecentlyUsedShard() throws IOException {
        // room for shard 3 (7 rows) plus shard 0 (5 rows), not for all three non-empty shards
        long budget = 4L * WIDTH * 12;
        TokenDataset d = TokenDataset.open(uri, conf, budget);
        d.readRows(Manifest.TRAIN, new long[] {0}); // shard 0
        d.readRows(Manifest.TRAIN, new long[] {8}); // shard 3: 0, 3
        d.readRows(Manifest.TRAIN, new long[] {0}); // hit: 3, 0
        assertThat(d.shardReads()).isEqualTo(2);
        d.readRows(Manifest.TRAIN, new long[] {5}); // shard 2 evicts shard 3, the least recently used
        assertThat(d.shardReads()).isEqualTo(3);
        assertThat(d.cachedBytes()).isLessThanOrEqualTo(budget);
        d.readRows(Manifest.TRAIN, new long[] {1});
        assertThat(d.shardReads()).isEqualTo(3);
        d.readRows(Manifest.TRAIN, new long[] {9});
        assertThat(d.shardReads()).isEqualTo(4);
        assertThat(d.cachedBytes()).isLessThanOrEqualTo(budget);
    }

    @Test
    void withoutACacheEachCallStillReadsEachShardOnce() throws IOException {
        TokenDataset d = TokenDataset.open(uri, conf, 0);
        long[] rows = {0, 8, 1, 9, 5, 2, 14, 6};
        assertThat(d.readRows(Manifest.TRAIN, rows)).isEqualTo(expectedTrainRows(rows));
        assertThat(d.shardReads()).isEqualTo(3);
        d.readRows(Manifest.TRAIN, new long[] {0});
        assertThat(d.shardReads()).isEqualTo(4);
        assertThat(d.cachedBytes()).isZero();
    }

    @Test
    void aRowOutOfRangeNamesTheSplitTheIndexAndTheRowCount() throws IOException {
        TokenDataset d = TokenDataset.open(uri, conf);
        assertThatThrownBy(() -> d.readRows(Manifest.TRAIN, new long[] {3, 15}))
                .isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("row 15").hasMessageContaining("split 'train'").hasMessageContaining("15 rows");
        assertThatThrownBy(() -> d.readRows(Manifest.VAL, new long[] {-1}))
                .hasMessageContaining("row -1").hasMessageContaining("split 'val'").hasMessageContaining("2 rows");
        assertThat(d.shardReads()).isZero();
    }

    @Test
    void aDirWithoutManifestIsTheDataDirError() throws IOException {
        Files.delete(tmp.resolve(DataDir.MANIFEST));
        assertThatThrownBy(() -> TokenDataset.open(uri, conf)).isInstanceOf(ManifestException.class)
                .hasMessageContaining("is not a prepared data dir").hasMessageContaining("scripts/sparkseek prep");
    }

    @Test
    void aCorruptedShardIsAnErrorNamingIt() throws IOException {
        java.nio.file.Path file = tmp.resolve(train.get(2).path());
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(file, bytes);
        TokenDataset d = TokenDataset.open(uri, conf);
        assertThat(d.readRows(Manifest.TRAIN, new long[] {0, 14})).isEqualTo(expectedTrainRows(0, 14));
        assertThatThrownBy(() -> d.readRows(Manifest.TRAIN, new long[] {6}))
                .isInstanceOf(CorruptShardException.class)
                .hasMessageContaining("train/part-00000-00002.arrow").hasMessageContaining("sha256");
    }

    @Test
    void survivesJavaSerializationAndReopensOnFirstUse() throws Exception {
        TokenDataset d = TokenDataset.open(uri, conf, 12345);
        d.readRows(Manifest.TRAIN, new long[] {0});
        TokenDataset copy = Fixtures.javaRoundTrip(d);
        assertThat(copy.uri()).isEqualTo(uri);
        assertThat(copy.cacheBytes()).isEqualTo(12345);
        assertThat(copy.shardReads()).isZero();
        long[] rows = {14, 2, 9};
        assertThat(copy.readRows(Manifest.TRAIN, rows)).isEqualTo(expectedTrainRows(rows));
        assertThat(copy.rows(Manifest.TRAIN)).isEqualTo(15);
        assertThat(copy.shardReads()).isEqualTo(2);

        BatchPlan plan = Fixtures.javaRoundTrip(BatchPlan.of(9, copy.rows(Manifest.TRAIN), 6, 3));
        long[] planned = plan.rows(4, 2);
        assertThat(Fixtures.javaRoundTrip(copy).readRows(Manifest.TRAIN, planned)).isEqualTo(expectedTrainRows(planned));
    }

    @Test
    void aShippedCopyWhoseDataDirIsGoneSaysSo() throws Exception {
        TokenDataset copy = Fixtures.javaRoundTrip(TokenDataset.open(uri, conf));
        Files.delete(tmp.resolve(DataDir.MANIFEST));
        assertThatThrownBy(() -> copy.readRows(Manifest.TRAIN, new long[] {0})).isInstanceOf(ManifestException.class)
                .hasMessageContaining("is not a prepared data dir");
    }

}
