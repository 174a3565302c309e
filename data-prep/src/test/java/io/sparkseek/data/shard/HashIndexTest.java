package io.sparkseek.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HashIndexTest {
    @TempDir java.nio.file.Path tmp;
    private final FileSystem fs = Fixtures.localFs();

    private static long[] hashes(int n) {
        return new SplittableRandom(42).longs(n).sorted().distinct().toArray();
    }

    @Test
    void roundTrip() throws IOException {
        long[] h = hashes(10_000);
        Path dir = Fixtures.hadoopPath(tmp);
        ShardInfo info = HashIndex.write(fs, dir, "dedup/hashes-00000.bin", h);

        assertThat(info.count()).isEqualTo(h.length);
        assertThat(info.tokens()).isZero();
        assertThat(info.bytes()).isEqualTo(16 + 8L * h.length).isEqualTo(Files.size(tmp.resolve("dedup/hashes-00000.bin")));
        assertThat(HashIndex.read(fs, dir, info)).isEqualTo(h);
        assertThat(HashIndex.contains(h, h[123])).isTrue();
        byte[] bytes = Files.readAllBytes(tmp.resolve("dedup/hashes-00000.bin"));
        assertThat(Arrays.copyOf(bytes, 4)).isEqualTo("SSHX".getBytes());
        assertThat(ByteBuffer.wrap(bytes).getLong(16)).isEqualTo(h[0]);
    }

    @Test
    void emptyIndexRoundTrips() throws IOException {
        Path dir = Fixtures.hadoopPath(tmp);
        ShardInfo info = HashIndex.write(fs, dir, "empty.bin", new long[0]);

        assertThat(HashIndex.read(fs, dir, info)).isEmpty();
    }

    @Test
    void unsortedOrDuplicateHashesAreRejected() {
        Path dir = Fixtures.hadoopPath(tmp);
        assertThatThrownBy(() -> HashIndex.write(fs, dir, "u.bin", new long[] {3, 1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ascending");
        assertThatThrownBy(() -> HashIndex.write(fs, dir, "u.bin", new long[] {1, 1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duplicates");
    }

    @Test
    void corruptionIsDetectedNamingTheFile() throws IOException {
        Path dir = Fixtures.hadoopPath(tmp);
        ShardInfo info = HashIndex.write(fs, dir, "h.bin", hashes(100));
        java.nio.file.Path file = tmp.resolve("h.bin");
        byte[] bytes = Files.readAllBytes(file);
        bytes[40] ^= 0x10;
        Files.write(file, bytes);
        Files.deleteIfExists(tmp.resolve(".h.bin.crc"));

        assertThatThrownBy(() -> HashIndex.read(fs, dir, info))
                .isInstanceOf(CorruptShardException.class).hasMessageContaining("h.bin").hasMessageContaining(info.sha256());
    }

    @Test
    void wrongMagicAndVersionAreNamedEvenWithAMatchingChecksum() throws IOException {
        Path dir = Fixtures.hadoopPath(tmp);
        ShardInfo info = HashIndex.write(fs, dir, "v.bin", hashes(3));
        byte[] bytes = Files.readAllBytes(tmp.resolve("v.bin"));

        bytes[7] = 2; // version 2
        assertThatThrownBy(() -> HashIndex.read(fs, dir, rewrite("v2.bin", bytes)))
                .isInstanceOf(CorruptShardException.class).hasMessageContaining("v2.bin").hasMessageContaining("version 2");
        bytes[0] = 'X';
        assertThatThrownBy(() -> HashIndex.read(fs, dir, rewrite("m.bin", bytes)))
                .isInstanceOf(CorruptShardException.class).hasMessageContaining("m.bin").hasMessageContaining("magic");
        assertThat(info.count()).isEqualTo(3);
    }

    private ShardInfo rewrite(String name, byte[] bytes) throws IOException {
        Files.write(tmp.resolve(name), bytes);
        return new ShardInfo(name, 3, 0, bytes.length, DataDir.sha256(fs, Fixtures.hadoopPath(tmp.resolve(name))));
    }
}
