package io.sparkseek.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ShardTest {
    @TempDir java.nio.file.Path tmp;
    private final FileSystem fs = Fixtures.localFs();

    private Path dir() {
        return Fixtures.hadoopPath(tmp);
    }

    @ParameterizedTest
    @CsvSource({"1, 1", "1, 1024", "7, 1023", "7, 1025", "16, 2049", "128, 1500", "4, 0"})
    void roundTripKeepsEveryRowAndColumn(int seqLen, int rows) throws IOException {
        int[] tokens = Fixtures.tokens(rows, seqLen);
        ShardInfo info = ShardWriter.write(fs, dir(), "train/part-00000-00000.arrow", seqLen, tokens, rows);

        assertThat(info.path()).isEqualTo("train/part-00000-00000.arrow");
        assertThat(info.sequences()).isEqualTo(rows);
        assertThat(info.tokens()).isEqualTo((long) rows * (seqLen + 1));
        assertThat(info.bytes()).isEqualTo(Files.size(tmp.resolve(info.path())));
        assertThat(ShardReader.readAll(fs, dir(), info, seqLen)).isEqualTo(tokens);
    }

    @Test
    void fileOpensWithPlainArrowReaderAndHasTheDocumentedSchema() throws IOException {
        int seqLen = 5;
        int rows = ShardWriter.BATCH_ROWS * 2 + 3;
        ShardInfo info = ShardWriter.write(fs, dir(), "s.arrow", seqLen, Fixtures.tokens(rows, seqLen), rows);

        try (SeekableByteChannel ch = Files.newByteChannel(tmp.resolve("s.arrow"));
                RootAllocator allocator = new RootAllocator();
                ArrowFileReader reader = new ArrowFileReader(ch, allocator)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            List<Field> fields = root.getSchema().getFields();
            assertThat(fields).hasSize(1);
            Field column = fields.get(0);
            assertThat(column.getName()).isEqualTo("tokens");
            assertThat(column.isNullable()).isFalse();
            assertThat(column.getType()).isEqualTo(new ArrowType.FixedSizeList(seqLen + 1));
            assertThat(column.getChildren()).hasSize(1);
            assertThat(column.getChildren().get(0).getType()).isEqualTo(new ArrowType.Int(32, true));
            assertThat(column.getChildren().get(0).isNullable()).isFalse();
            assertThat(root.getSchema().getCustomMetadata())
                    .containsEntry("format", "sparkseek-tokens/1").containsEntry("seq_len", "5");

            List<ArrowBlock> blocks = reader.getRecordBlocks();
            assertThat(blocks).hasSize(3);
            long row = 0;
            for (ArrowBlock block : blocks) {
                reader.loadRecordBatch(block);
                assertThat(root.getRowCount()).isLessThanOrEqualTo(ShardWriter.BATCH_ROWS);
                FixedSizeListVector list = (FixedSizeListVector) root.getVector("tokens");
                IntVector items = (IntVector) list.getDataVector();
                for (int r = 0; r < root.getRowCount(); r++, row++) {
                    for (int c = 0; c <= seqLen; c++) {
                        assertThat(items.get(r * (seqLen + 1) + c)).isEqualTo((int) row * 1000 + c);
                    }
                }
            }
            assertThat(row).isEqualTo(info.sequences());
        }
    }

    @Test
    void sameInputGivesByteIdenticalFiles() throws IOException {
        int[] tokens = Fixtures.tokens(1500, 9);
        ShardInfo a = ShardWriter.write(fs, dir(), "a.arrow", 9, tokens, 1500);
        ShardInfo b = ShardWriter.write(fs, dir(), "b.arrow", 9, tokens, 1500);

        assertThat(Files.readAllBytes(tmp.resolve("a.arrow"))).isEqualTo(Files.readAllBytes(tmp.resolve("b.arrow")));
        assertThat(b.sha256()).isEqualTo(a.sha256());
        assertThat(b.bytes()).isEqualTo(a.bytes());
    }

    @Test
    void sha256IsThatOfTheBytesOnDisk() throws Exception {
        ShardInfo info = ShardWriter.write(fs, dir(), "train/x.arrow", 3, Fixtures.tokens(2000, 3), 2000);

        byte[] onDisk = Files.readAllBytes(tmp.resolve("train/x.arrow"));
        String independent = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(onDisk));
        assertThat(info.sha256()).isEqualTo(independent);
        assertThat(info.bytes()).isEqualTo(onDisk.length);
        assertThat(DataDir.sha256(fs, new Path(dir(), "train/x.arrow"))).isEqualTo(independent);
    }

    @Test
    void flippedByteIsACorruptShardNamingPathAndChecksums() throws IOException {
        ShardInfo info = ShardWriter.write(fs, dir(), "train/p.arrow", 4, Fixtures.tokens(50, 4), 50);
        java.nio.file.Path file = tmp.resolve("train/p.arrow");
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 1;
        Files.write(file, bytes);
        // as if the corruption happened where the file system keeps no checksum of its own
        Files.deleteIfExists(tmp.resolve("train/.p.arrow.crc"));

        assertThatThrownBy(() -> ShardReader.readAll(fs, dir(), info, 4))
                .isInstanceOf(CorruptShardException.class)
                .hasMessageContaining("train/p.arrow")
                .hasMessageContaining(info.sha256())
                .hasMessageContaining(HexFormat.of().formatHex(sha256(bytes)))
                .hasMessageContaining("re-run")
                .hasMessageContaining("restore");
    }

    @Test
    void flippedByteCaughtByTheFileSystemChecksumIsACorruptShardToo() throws IOException {
        ShardInfo info = ShardWriter.write(fs, dir(), "train/p.arrow", 4, Fixtures.tokens(50, 4), 50);
        java.nio.file.Path file = tmp.resolve("train/p.arrow");
        byte[] bytes = Files.readAllBytes(file);
        bytes[7] ^= 1;
        Files.write(file, bytes);

        assertThatThrownBy(() -> ShardReader.readAll(fs, dir(), info, 4))
                .isInstanceOf(CorruptShardException.class)
                .hasMessageContaining("train/p.arrow");
    }

    @Test
    void truncatedFileIsACorruptShardNamingSizes() throws IOException {
        ShardInfo info = ShardWriter.write(fs, dir(), "train/t.arrow", 4, Fixtures.tokens(50, 4), 50);
        java.nio.file.Path file = tmp.resolve("train/t.arrow");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 10));
        Files.deleteIfExists(tmp.resolve("train/.t.arrow.crc"));

        assertThatThrownBy(() -> ShardReader.readAll(fs, dir(), info, 4))
                .isInstanceOf(CorruptShardException.class)
                .hasMessageContaining("train/t.arrow")
                .hasMessageContaining(Long.toString(info.bytes()))
                .hasMessageContaining(Long.toString(info.bytes() - 10));
    }

    @Test
    void missingFileIsACorruptShardNamingIt() throws IOException {
        ShardInfo info = ShardWriter.write(fs, dir(), "val/m.arrow", 2, Fixtures.tokens(5, 2), 5);
        Files.delete(tmp.resolve("val/m.arrow"));

        assertThatThrownBy(() -> ShardReader.readAll(fs, dir(), info, 2))
                .isInstanceOf(CorruptShardException.class)
                .hasMessageContaining("val/m.arrow")
                .hasMessageContaining("does not exist");
    }

    @Test
    void wrongSeqLenIsRejectedAfterTheChecksum() throws IOException {
        ShardInfo info = ShardWriter.write(fs, dir(), "w.arrow", 4, Fixtures.tokens(6, 4), 6);
        // a manifest entry claiming seq_len 5 with consistent totals: 5 rows x 6
        ShardInfo lie = new ShardInfo(info.path(), 5, 30, info.bytes(), info.sha256());

        assertThatThrownBy(() -> ShardReader.readAll(fs, dir(), lie, 5))
                .isInstanceOf(CorruptShardException.class)
                .hasMessageContaining("w.arrow")
                .hasMessageContaining("FixedSizeList<int32>[6]");
    }

    @Test
    void foreignArrowFileWithAMatchingChecksumIsRejectedBySchema() throws Exception {
        Schema schema = new Schema(List.of(new Field("ids", FieldType.notNullable(new ArrowType.Int(32, true)), null)));
        java.nio.file.Path file = tmp.resolve("foreign.arrow");
        try (RootAllocator allocator = new RootAllocator();
                VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
                FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                ArrowFileWriter writer = new ArrowFileWriter(root, null, ch)) {
            IntVector ids = (IntVector) root.getVector(0);
            ids.allocateNew(3);
            ids.setSafe(0, 1);
            ids.setSafe(1, 2);
            ids.setSafe(2, 3);
            ids.setValueCount(3);
            root.setRowCount(3);
            writer.start();
            writer.writeBatch();
            writer.end();
        }
        ShardInfo info = entryFor("foreign.arrow", 3, 2);

        assertThatThrownBy(() -> ShardReader.readAll(fs, dir(), info, 2))
                .isInstanceOf(CorruptShardException.class)
                .hasMessageContaining("foreign.arrow")
                .hasMessageContaining("ids");
    }

    @Test
    void nonArrowBytesWithAMatchingChecksumAreACorruptShard() throws Exception {
        Files.write(tmp.resolve("junk.arrow"), "not an arrow file at all".getBytes(StandardCharsets.UTF_8));
        ShardInfo info = entryFor("junk.arrow", 1, 2);

        assertThatThrownBy(() -> ShardReader.readAll(fs, dir(), info, 2))
                .isInstanceOf(CorruptShardException.class)
                .hasMessageContaining("junk.arrow")
                .hasMessageContaining("Arrow cannot read it");
    }

    private ShardInfo entryFor(String name, long rows, int seqLen) throws Exception {
        byte[] bytes = Files.readAllBytes(tmp.resolve(name));
        return new ShardInfo(name, rows, rows * (seqLen + 1), bytes.length, HexFormat.of().formatHex(sha256(bytes)));
    }

    @Test
    void rowCountMismatchIsRejected() throws IOException {
        ShardInfo info = ShardWriter.write(fs, dir(), "r.arrow", 4, Fixtures.tokens(6, 4), 6);
        ShardInfo lie = new ShardInfo(info.path(), 7, 35, info.bytes(), info.sha256());

        assertThatThrownBy(() -> ShardReader.readAll(fs, dir(), lie, 4))
                .isInstanceOf(CorruptShardException.class)
                .hasMessageContaining("r.arrow")
                .hasMessageContaining("6 rows");
    }

    @Test
    void readRowsReturnsTheRequestedWindow() throws IOException {
        ShardInfo info = ShardWriter.write(fs, dir(), "rows.arrow", 3, Fixtures.tokens(1100, 3), 1100);

        int[] rows = ShardReader.readRows(fs, dir(), info, 3, 1023, 2);
        assertThat(rows).containsExactly(1023000, 1023001, 1023002, 1023003, 1024000, 1024001, 1024002, 1024003);
        assertThatThrownBy(() -> ShardReader.readRows(fs, dir(), info, 3, 1099, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rows.arrow");
    }

    @Test
    void existingFileIsNeitherOverwrittenNorDeleted() throws IOException {
        ShardInfo first = ShardWriter.write(fs, dir(), "e.arrow", 2, Fixtures.tokens(3, 2), 3);

        assertThatThrownBy(() -> ShardWriter.write(fs, dir(), "e.arrow", 2, Fixtures.tokens(4, 2), 4))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(ShardReader.readAll(fs, dir(), first, 2)).isEqualTo(Fixtures.tokens(3, 2));
    }

    @Test
    void badArgumentsAreRejectedBeforeWriting() {
        assertThatThrownBy(() -> ShardWriter.write(fs, dir(), "../x.arrow", 2, Fixtures.tokens(1, 2), 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("..");
        assertThatThrownBy(() -> ShardWriter.write(fs, dir(), "x.arrow", 2, Fixtures.tokens(1, 2), 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x.arrow");
        assertThatThrownBy(() -> ShardWriter.write(fs, dir(), "x.arrow", 0, new int[0], 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("seqLen");
        assertThat(tmp.resolve("x.arrow")).doesNotExist();
    }

    @Test
    void failedWriteDeletesThePartialFileAndNamesIt() throws IOException {
        FileSystem failing = new FailingFileSystem(fs, "broken.arrow", 100);

        assertThatThrownBy(() -> ShardWriter.write(failing, dir(), "broken.arrow", 8, Fixtures.tokens(200, 8), 200))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("broken.arrow")
                .hasMessageContaining("deleted");
        assertThat(tmp.resolve("broken.arrow")).doesNotExist();
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
