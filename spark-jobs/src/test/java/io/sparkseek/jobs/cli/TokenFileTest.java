package io.sparkseek.jobs.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link TokenFile}: little-endian rows round-trip, step s reads rows s·batch.., and bad sizes name the file. */
class TokenFileTest {

    @Test
    void writesLittleEndianRowsAndReadsThemBack(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("t.bin");
        int[] ids = {1, 2, 3, 258, 5, 6};
        TokenFile.write(f, ids);
        byte[] raw = Files.readAllBytes(f);
        assertThat(raw).hasSize(24);
        assertThat(raw[12]).isEqualTo((byte) 2);   // 258 = 0x102, low byte first
        assertThat(raw[13]).isEqualTo((byte) 1);
        assertThat(TokenFile.read(f, 2)).containsExactly(ids);
    }

    @Test
    void stepReadsConsecutiveRows() {
        Path f = Path.of("rows.bin");
        int seqLen = 2;
        int[] ids = new int[5 * (seqLen + 1)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = i;
        }
        assertThat(TokenFile.batch(f, ids, seqLen, 0, 2)).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(TokenFile.batch(f, ids, seqLen, 1, 2)).containsExactly(6, 7, 8, 9, 10, 11);
        assertThat(TokenFile.batch(f, ids, seqLen, 4, 1)).containsExactly(12, 13, 14);
        assertThatThrownBy(() -> TokenFile.batch(f, ids, seqLen, 2, 2))
                .hasMessageContaining("rows.bin").hasMessageContaining("5 rows")
                .hasMessageContaining("write at least 6 rows");
    }

    @Test
    void sizeThatIsNotWholeRowsNamesFileAndSeqLen(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("odd.bin");
        TokenFile.write(f, new int[]{1, 2, 3, 4});
        assertThatThrownBy(() -> TokenFile.read(f, 2))
                .hasMessageContaining("odd.bin").hasMessageContaining("check --seq-len");
    }
}
