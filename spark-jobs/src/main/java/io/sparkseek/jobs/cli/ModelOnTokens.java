package io.sparkseek.jobs.cli;

import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** The options {@code eval} and {@code grad} share: a model, a token file, the precision and the compute threads. */
final class ModelOnTokens {
    @Option(names = "--checkpoint", required = true, description = "trainer checkpoint, run dir or HF-layout directory")
    Path checkpoint;

    @Option(names = "--tokens", required = true, description = "raw little-endian int32 rows of seq-len + 1 tokens")
    Path tokens;

    @Option(names = "--seq-len", required = true, description = "tokens per row minus one")
    int seqLen;

    @Option(names = "--threads", description = "compute threads (default: all cores)")
    Integer threads;

    @Mixin
    PrecisionOptions precision;

    DeepSeekModel loadModel(float balanceAlpha) throws IOException {
        return ModelLoader.load(checkpoint, balanceAlpha, precision.policy());
    }

    /** Every row of the token file, each id checked against the model's vocabulary. */
    int[] readRows(DeepSeekModel model) throws IOException {
        int[] all = TokenFile.read(tokens, seqLen);
        TokenFile.checkVocab(tokens, all, seqLen, model.config().vocabSize());
        return all;
    }

    ComputePool pool() {
        return new ComputePool(threads != null ? threads : Runtime.getRuntime().availableProcessors());
    }
}
