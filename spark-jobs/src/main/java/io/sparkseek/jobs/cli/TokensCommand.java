package io.sparkseek.jobs.cli;

import io.sparkseek.model.train.SyntheticTokens;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code tokens}: writes a synthetic {@code --tokens} file (rows of seq-len + 1 little-endian int32) from the same
 * stream {@code train-local} trains on, for evaluation and smoke tests before real data prep exists.
 */
@Command(name = "tokens", mixinStandardHelpOptions = true,
        description = "Write a synthetic token file (the stream train-local uses) for eval/grad.")
public final class TokensCommand implements Callable<Integer> {
    /** Batches written here come from step numbers far past any training run, so they are fresh draws. */
    private static final long HELD_OUT_STEP = 1L << 40;

    @Option(names = "--synthetic", defaultValue = "PATTERN", description = "PATTERN or RANDOM (default ${DEFAULT-VALUE})")
    SyntheticTokens.Kind kind;

    @Option(names = "--vocab", required = true, description = "vocabulary size (config.json vocab_size)")
    int vocab;

    @Option(names = "--period", defaultValue = "48", description = "PATTERN period (default ${DEFAULT-VALUE})")
    int period;

    @Option(names = "--seed", defaultValue = "0", description = "stream seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--rows", defaultValue = "8", description = "rows to write (default ${DEFAULT-VALUE})")
    int rows;

    @Option(names = "--seq-len", required = true, description = "tokens per row minus one")
    int seqLen;

    @Option(names = "--out", required = true, description = "output file")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (rows < 1 || seqLen < 1) {
            throw new IllegalArgumentException("--rows and --seq-len must be >= 1");
        }
        int[] ids = new SyntheticTokens(kind, vocab, period, seed).batch(HELD_OUT_STEP, rows, seqLen);
        TokenFile.write(out, ids);
        System.out.printf("wrote %d rows of %d tokens -> %s%n", rows, seqLen + 1, out);
        return 0;
    }
}
