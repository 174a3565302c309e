package io.sparkseek.data.shard;

import java.io.IOException;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.arrow.vector.util.ByteArrayReadableSeekableByteChannel;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads a token shard written by {@link ShardWriter}. The file's size and sha256 are checked against its
 * manifest entry before Arrow parses a byte; then the schema and row count are checked. Any mismatch is a
 * {@link CorruptShardException} naming the shard.
 */
public final class ShardReader {
    private static final String FIX = "; re-run prep or restore the file";

    private ShardReader() {}

    /** All rows of the shard, flattened: sequences × (seqLen + 1) ints. */
    public static int[] readAll(FileSystem fs, Path dataDir, ShardInfo info, int seqLen) throws IOException {
        int width = checkEntry(info, seqLen);
        byte[] bytes = ShardFiles.readVerified(fs, dataDir, info, "shard");
        try {
            return parse(bytes, info, width);
        } catch (CorruptShardException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw corrupt(info, dataDir, "its checksum matches but Arrow cannot read it: " + e, e);
        }
    }

    /** Rows [firstRow, firstRow + count) of the shard, flattened. Reads the whole file. */
    public static int[] readRows(FileSystem fs, Path dataDir, ShardInfo info, int seqLen, long firstRow, int count)
            throws IOException {
        if (firstRow < 0 || count < 0 || firstRow + count > info.sequences()) {
            throw new IllegalArgumentException("rows [" + firstRow + ", " + (firstRow + count) + ") are outside shard "
                    + info.path() + " with " + info.sequences() + " rows");
        }
        int width = seqLen + 1;
        int[] all = readAll(fs, dataDir, info, seqLen);
        int from = (int) (firstRow * width);
        return Arrays.copyOfRange(all, from, from + count * width);
    }

    private static int checkEntry(ShardInfo info, int seqLen) {
        if (seqLen < 1) {
            throw new IllegalArgumentException("seqLen must be >= 1, got " + seqLen);
        }
        int width = seqLen + 1;
        if (info.tokens() != info.sequences() * width) {
            throw new IllegalArgumentException("shard " + info.path() + " is listed with " + info.tokens()
                    + " tokens, but sequences " + info.sequences() + " x (seq_len " + seqLen + " + 1) = "
                    + info.sequences() * width);
        }
        if (info.tokens() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shard " + info.path() + " has " + info.tokens()
                    + " tokens, more than one int[] holds; write smaller shards");
        }
        return width;
    }

    private static int[] parse(byte[] bytes, ShardInfo info, int width) throws IOException {
        int[] out = new int[(int) info.tokens()];
        try (BufferAllocator allocator = new RootAllocator();
                ArrowFileReader reader = new ArrowFileReader(new ByteArrayReadableSeekableByteChannel(bytes), allocator)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            checkSchema(root.getSchema(), info, width);
            long row = 0;
            for (ArrowBlock block : reader.getRecordBlocks()) {
                reader.loadRecordBatch(block);
                int n = root.getRowCount();
                if (row + n > info.sequences()) {
                    throw new CorruptShardException("shard " + info.path() + " has more rows than the "
                            + info.sequences() + " its manifest entry lists" + FIX);
                }
                FixedSizeListVector list = (FixedSizeListVector) root.getVector(0);
                IntVector items = (IntVector) list.getDataVector();
                int values = n * width;
                if (list.getNullCount() != 0 || items.getValueCount() < values || items.getNullCount() != 0) {
                    throw new CorruptShardException("shard " + info.path() + " has null or missing tokens in a batch"
                            + " starting at row " + row + FIX);
                }
                items.getDataBuffer().nioBuffer(0, values * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer()
                        .get(out, (int) (row * width), values);
                row += n;
            }
            if (row != info.sequences()) {
                throw new CorruptShardException("shard " + info.path() + " has " + row + " rows but its manifest entry"
                        + " lists " + info.sequences() + FIX);
            }
        }
        return out;
    }

    private static void checkSchema(Schema schema, ShardInfo info, int width) {
        List<Field> fields = schema.getFields();
        String expected = "; expected one column " + ShardWriter.COLUMN + ": FixedSizeList<int32>[" + width + "]";
        if (fields.size() != 1 || !ShardWriter.COLUMN.equals(fields.get(0).getName())) {
            throw new CorruptShardException("shard " + info.path() + " has columns " + fields + expected + FIX);
        }
        Field column = fields.get(0);
        if (!(column.getType() instanceof ArrowType.FixedSizeList list) || list.getListSize() != width
                || column.getChildren().size() != 1
                || !new ArrowType.Int(32, true).equals(column.getChildren().get(0).getType())) {
            throw new CorruptShardException("shard " + info.path() + " has column " + column + expected
                    + " (is it from a data dir with another seq_len?)" + FIX);
        }
        String format = schema.getCustomMetadata().get(ShardWriter.META_FORMAT);
        String seqLen = schema.getCustomMetadata().get(ShardWriter.META_SEQ_LEN);
        if (!Manifest.FORMAT.equals(format) || !Integer.toString(width - 1).equals(seqLen)) {
            throw new CorruptShardException("shard " + info.path() + " has schema metadata format=" + format
                    + ", seq_len=" + seqLen + "; expected " + Manifest.FORMAT + " and " + (width - 1) + FIX);
        }
    }

    private static CorruptShardException corrupt(ShardInfo info, Path dataDir, String what, Throwable cause) {
        return new CorruptShardException("shard " + info.path() + " in " + dataDir + ": " + what + FIX, cause);
    }
}
