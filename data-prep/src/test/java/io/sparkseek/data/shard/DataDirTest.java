package io.sparkseek.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirTest {
    @TempDir java.nio.file.Path tmp;
    private final FileSystem fs = Fixtures.localFs();

    private Path dir() {
        return Fixtures.hadoopPath(tmp);
    }

    /** A real data dir: tokenizer, two train shards, one val shard, a hash index; manifest committed. */
    private Manifest prepare() throws IOException {
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {}}\n");
        String tokSha = DataDir.sha256(fs, new Path(dir(), "tokenizer.json"));
        int seqLen = 6;
        ShardInfo t0 = ShardWriter.write(fs, dir(), "train/part-00000-00000.arrow", seqLen, Fixtures.tokens(40, seqLen), 40);
        ShardInfo t1 = ShardWriter.write(fs, dir(), "train/part-00000-00001.arrow", seqLen, Fixtures.tokens(3, seqLen), 3);
        ShardInfo v0 = ShardWriter.write(fs, dir(), "val/part-00000-00000.arrow", seqLen, Fixtures.tokens(2, seqLen), 2);
        ShardInfo h = HashIndex.write(fs, dir(), "dedup/hashes-00000.bin", new long[] {-5, 7, 99});
        Manifest m = Manifest.create(seqLen, 50_000, tokSha, -1, 0, -1, Fixtures.settings())
                .withShards("train", List.of(t0, t1)).withShards("val", List.of(v0))
                .withRun(List.of(new SourceInfo("file:/c/a.jsonl", 10, 1, 45)), Fixtures.stats())
                .withDedupIndex(List.of(h));
        DataDir.commitManifest(fs, dir(), m);
        return m;
    }

    private List<String> tempFiles() throws IOException {
        try (Stream<java.nio.file.Path> files = Files.walk(tmp)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tmp-")).toList();
        }
    }

    @Test
    void commitThenReadAndVerify() throws IOException {
        Manifest m = prepare();

        assertThat(DataDir.readManifest(fs, dir())).isEqualTo(m);
        assertThat(Files.readAllBytes(tmp.resolve("manifest.json"))).isEqualTo(m.toJson());
        assertThat(DataDir.readManifestIfPresent(fs, dir())).contains(m);
        DataDir.verify(fs, dir());
        assertThat(tempFiles()).isEmpty();
    }

    @Test
    void commitReplacesAnExistingManifestAndLeavesNoTempFiles() throws IOException {
        Manifest first = prepare();
        Manifest second = first.withRun(List.of(), Fixtures.stats());

        DataDir.commitManifest(fs, dir(), second);

        assertThat(DataDir.readManifest(fs, dir())).isEqualTo(second);
        assertThat(tempFiles()).isEmpty();
    }

    @Test
    void replacedManifestReadsBackThroughTheChecksummedAndTheRawLocalFileSystem() throws IOException {
        Manifest first = prepare();
        FileSystem raw = Fixtures.localFs().getRawFileSystem();
        Manifest second = first.withRun(List.of(), Fixtures.stats());
        Manifest third = second.withRun(List.of(), Fixtures.stats());

        DataDir.commitManifest(raw, dir(), second);
        assertThat(DataDir.readManifest(fs, dir())).isEqualTo(second);
        DataDir.commitManifest(fs, dir(), third);
        assertThat(DataDir.readManifest(fs, dir())).isEqualTo(third);
        assertThat(DataDir.readManifest(raw, dir())).isEqualTo(third);
        assertThat(tempFiles()).isEmpty();
    }

    @Test
    void failedWriteLeavesThePreviousManifestIntact() throws IOException {
        Manifest first = prepare();
        byte[] before = Files.readAllBytes(tmp.resolve("manifest.json"));
        FileSystem failing = new FailingFileSystem(fs, "manifest.json", 50);

        assertThatThrownBy(() -> DataDir.commitManifest(failing, dir(), first.withRun(List.of(), Fixtures.stats())))
                .isInstanceOf(IOException.class).hasMessageContaining("manifest.json");

        assertThat(Files.readAllBytes(tmp.resolve("manifest.json"))).isEqualTo(before);
        assertThat(tempFiles()).isEmpty();
    }

    @Test
    void invalidManifestCannotBeBuiltSoNothingIsWritten() throws IOException {
        Manifest first = prepare();
        byte[] before = Files.readAllBytes(tmp.resolve("manifest.json"));

        assertThatThrownBy(() -> first.withShards("train", List.of(new ShardInfo("t.arrow", 1, 99, 1, Fixtures.SHA_A))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("t.arrow");
        assertThatThrownBy(() -> new ShardInfo("../t.arrow", 1, 7, 1, Fixtures.SHA_A))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(Files.readAllBytes(tmp.resolve("manifest.json"))).isEqualTo(before);
    }

    @Test
    void missingManifestSaysToRunPrep() {
        assertThat(Fixtures.localFs()).isNotNull();
        assertThatThrownBy(() -> DataDir.readManifest(fs, dir()))
                .isInstanceOf(ManifestException.class)
                .hasMessageContaining(tmp.toString())
                .hasMessageContaining("not a prepared data dir")
                .hasMessageContaining("scripts/sparkseek prep");
        assertThat(catchOptional()).isEmpty();
    }

    private java.util.Optional<Manifest> catchOptional() {
        try {
            return DataDir.readManifestIfPresent(fs, dir());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void malformedManifestNamesTheFile() throws IOException {
        Files.writeString(tmp.resolve("manifest.json"), "{\"format\": \"sparkseek-tokens/1\",", StandardCharsets.UTF_8);

        assertThatThrownBy(() -> DataDir.readManifest(fs, dir()))
                .isInstanceOf(ManifestException.class).hasMessageContaining("manifest.json").hasMessageContaining(tmp.toString());
    }

    @Test
    void verifyCatchesAMissingShard() throws IOException {
        prepare();
        Files.delete(tmp.resolve("val/part-00000-00000.arrow"));

        assertThatThrownBy(() -> DataDir.verify(fs, dir()))
                .isInstanceOf(CorruptShardException.class)
                .hasMessageContaining("val/part-00000-00000.arrow: missing");
    }

    @Test
    void verifyCatchesASizeMismatch() throws IOException {
        prepare();
        java.nio.file.Path shard = tmp.resolve("train/part-00000-00001.arrow");
        Files.write(shard, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
        Files.deleteIfExists(tmp.resolve("train/.part-00000-00001.arrow.crc"));

        assertThatThrownBy(() -> DataDir.verify(fs, dir()))
                .isInstanceOf(CorruptShardException.class)
                .hasMessageContaining("train/part-00000-00001.arrow: ")
                .hasMessageContaining("bytes, the manifest lists")
                .hasMessageNotContaining("part-00000-00000.arrow:");
    }

    @Test
    void verifyCatchesAChecksumMismatchInTheHashIndexAndTokenizer() throws IOException {
        prepare();
        byte[] index = Files.readAllBytes(tmp.resolve("dedup/hashes-00000.bin"));
        index[index.length - 1] ^= 1;
        Files.write(tmp.resolve("dedup/hashes-00000.bin"), index);
        Files.deleteIfExists(tmp.resolve("dedup/.hashes-00000.bin.crc"));
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"x\": 1}}\n");
        Files.deleteIfExists(tmp.resolve(".tokenizer.json.crc"));

        assertThatThrownBy(() -> DataDir.verify(fs, dir()))
                .isInstanceOf(CorruptShardException.class)
                .hasMessageContaining("dedup/hashes-00000.bin: sha256")
                .hasMessageContaining("tokenizer.json: ")
                .hasMessageContaining("2 problem(s)");
    }

    @Test
    void objectStoreSchemesWriteInPlace() {
        assertThat(DataDir.isObjectStore(new Path("s3a://bucket/data"))).isTrue();
        assertThat(DataDir.isObjectStore(new Path("gs://bucket/data"))).isTrue();
        assertThat(DataDir.isObjectStore(new Path("hdfs://nn/data"))).isFalse();
        assertThat(DataDir.isObjectStore(new Path("file:/tmp/data"))).isFalse();
    }
}
