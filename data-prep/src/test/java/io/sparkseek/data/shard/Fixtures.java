package io.sparkseek.data.shard;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/** Shared test data: tokens whose value encodes (row, column), sample manifests, the local FS. */
final class Fixtures {
    static final String SHA_A = "a".repeat(64);
    static final String SHA_B = "b".repeat(64);

    private Fixtures() {}

    static LocalFileSystem localFs() {
        try {
            return FileSystem.getLocal(new Configuration());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path hadoopPath(java.nio.file.Path p) {
        return new Path(p.toUri());
    }

    /** Row r, column c holds r * 1000 + c: an off-by-one in rows or columns shows. */
    static int[] tokens(int rows, int seqLen) {
        int width = seqLen + 1;
        int[] t = new int[rows * width];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < width; c++) {
                t[r * width + c] = r * 1000 + c;
            }
        }
        return t;
    }

    static Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("seq_len", "8");
        s.put("dedup", "exact");
        s.put("val_fraction", "0.01");
        s.put("normalize", "nfc");
        return s;
    }

    static Map<String, Long> stats() {
        Map<String, Long> s = new LinkedHashMap<>();
        s.put("documents_read", 120L);
        s.put("dropped_empty", 3L);
        s.put("deduplicated", 7L);
        s.put("tokens", 5_000L);
        s.put("dropped_tail_tokens", 4L);
        return s;
    }

    /** A manifest with two train shards, one val shard, two runs, one hash index. */
    static Manifest sample() {
        int seqLen = 8;
        return Manifest.create(seqLen, 512, SHA_A, 1, 2, -1, settings())
                .withShards(Manifest.TRAIN, List.of(new ShardInfo("train/part-00000-00000.arrow", 10, 90, 4096, SHA_A),
                        new ShardInfo("train/part-00000-00001.arrow", 3, 27, 1024, SHA_B)))
                .withShards(Manifest.VAL, List.of(new ShardInfo("val/part-00000-00000.arrow", 1, 9, 512, SHA_B)))
                .withRun(List.of(new SourceInfo("file:/corpus/a.jsonl", 1000, 1_700_000_000_000L, 100),
                        new SourceInfo("file:/corpus/b.jsonl", 200, 1_700_000_000_001L, 20)), stats())
                .withRun(List.of(new SourceInfo("s3a://bucket/c.jsonl", 50, 1_700_000_000_002L, 5)), Map.of())
                .withDedupIndex(List.of(new ShardInfo("dedup/hashes-00001.bin", 125, 0, 1016, SHA_A)));
    }

    /** {@code value} through Java serialization and back, as Spark ships it to a task. */
    @SuppressWarnings("unchecked")
    static <T> T javaRoundTrip(T value) throws java.io.IOException, ClassNotFoundException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
                new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            return (T) in.readObject();
        }
    }
}
