package io.sparkseek.data.shard;

import java.io.IOException;
import java.nio.channels.Channels;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Writes one token shard: an Arrow IPC file (ARCHITECTURE.md §3) with the single non-nullable column
 * {@code tokens: FixedSizeList<int32 not null>[seq_len + 1]}, one row per training sequence, in record
 * batches of at most {@link #BATCH_ROWS} rows. Schema metadata: {@code format} and {@code seq_len}.
 * The same input gives the same bytes.
 */
public final class ShardWriter {
    /** Rows per Arrow record batch (the last one may be shorter). */
    public static final int BATCH_ROWS = 1024;
    public static final String COLUMN = "tokens";
    public static final String ITEM = "item";
    public static final String META_FORMAT = "format";
    public static final String META_SEQ_LEN = "seq_len";

    private ShardWriter() {}

    /** The schema of a shard with rows of seqLen + 1 tokens. */
    public static Schema schema(int seqLen) {
        Field item = new Field(ITEM, FieldType.notNullable(new ArrowType.Int(32, true)), null);
        Field tokens = new Field(COLUMN, FieldType.notNullable(new ArrowType.FixedSizeList(seqLen + 1)),
                List.of(item));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(META_FORMAT, Manifest.FORMAT);
        meta.put(META_SEQ_LEN, Integer.toString(seqLen));
        return new Schema(List.of(tokens), meta);
    }

    /**
     * Writes {@code rows} sequences of seqLen + 1 tokens each (row r is tokens[r*(seqLen+1) ...]) to
     * {@code dataDir/relativePath} through {@code fs.create(path, false)}; the file must not exist. Returns its
     * manifest entry, with the size and sha256 of exactly the bytes written. On failure the partial file is
     * deleted and the IOException names it.
     */
    public static ShardInfo write(FileSystem fs, Path dataDir, String relativePath, int seqLen, int[] tokens,
            int rows) throws IOException {
        if (seqLen < 1) {
            throw new IllegalArgumentException("seqLen must be >= 1, got " + seqLen + " (shard " + relativePath + ")");
        }
        if (rows < 0 || tokens == null || tokens.length != (long) rows * (seqLen + 1)) {
            throw new IllegalArgumentException("shard " + relativePath + ": expected rows " + rows + " x (seqLen "
                    + seqLen + " + 1) = " + (long) rows * (seqLen + 1) + " tokens, got "
                    + (tokens == null ? "null" : tokens.length));
        }
        Path file = ShardFiles.resolve(dataDir, relativePath);
        FSDataOutputStream out = fs.create(file, false);
        HashingOutputStream hashing = new HashingOutputStream(out);
        try {
            writeArrow(hashing, seqLen, tokens, rows); // closes the stream
        } catch (IOException | RuntimeException | Error e) {
            ShardFiles.abandon(out, e);
            ShardFiles.deleteQuietly(fs, file, e);
            throw new IOException("could not write shard " + relativePath + " (" + file + "); the partial file was"
                    + " deleted: " + e, e);
        }
        return new ShardInfo(relativePath, rows, (long) rows * (seqLen + 1), hashing.count(), hashing.sha256());
    }

    /** Streams the Arrow file into {@code out} and closes it. */
    private static void writeArrow(HashingOutputStream out, int seqLen, int[] tokens, int rows) throws IOException {
        int width = seqLen + 1;
        try (BufferAllocator allocator = new RootAllocator();
                VectorSchemaRoot root = VectorSchemaRoot.create(schema(seqLen), allocator);
                ArrowFileWriter writer = new ArrowFileWriter(root, null, Channels.newChannel(out))) {
            FixedSizeListVector list = (FixedSizeListVector) root.getVector(COLUMN);
            writer.start();
            for (int first = 0; first < rows; first += BATCH_ROWS) {
                int n = Math.min(BATCH_ROWS, rows - first);
                root.clear();
                list.setInitialCapacity(n);
                list.allocateNew();
                IntVector items = (IntVector) list.getDataVector();
                int base = first * width;
                for (int i = 0; i < n * width; i++) {
                    items.set(i, tokens[base + i]);
                }
                for (int r = 0; r < n; r++) {
                    list.setNotNull(r);
                }
                list.setValueCount(n);
                root.setRowCount(n);
                writer.writeBatch();
            }
            writer.end();
        }
    }
}
