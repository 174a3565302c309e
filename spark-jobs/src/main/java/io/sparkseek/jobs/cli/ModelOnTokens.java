package io.sparkseek.jobs.cli;

import io.sparkseek.data.shard.Manifest;
import io.sparkseek.data.shard.TokenDataset;
import io.sparkseek.jobs.HadoopConfs;
import io.sparkseek.model.io.ExportMarker;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.stream.LongStream;

/**
 * The options {@code eval} and {@code grad} share: a model (local, hdfs:// or s3a://), its input — a token file
 * ({@code --tokens FILE --seq-len T}) or a split of a prepared data dir ({@code --data DIR [--split val]}) — the
 * precision and the compute threads.
 */
final class ModelOnTokens {
    /** Most tokens read from --data at once (the rows are held as one int[]: 1 GiB). */
    static final long MAX_TOKENS = 1L << 28;

    @Option(names = "--checkpoint", required = true,
            description = "trainer checkpoint, run dir or HF-layout directory; local, hdfs:// or s3a://")
    String checkpoint;

    @Option(names = "--tokens", description = "raw little-endian int32 rows of seq-len + 1 tokens")
    Path tokens;

    @Option(names = "--seq-len", description = "tokens per row minus one (with --tokens)")
    Integer seqLenOption;

    @Option(names = "--data", description = "a prepared data dir (scripts/sparkseek prep); its --split is read")
    String data;

    @Option(names = "--split", defaultValue = "val", description = "split of --data: val or train (default ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--max-rows", description = "read at most this many rows of --data (default: all)")
    Long maxRows;

    @Option(names = "--threads", description = "compute threads (default: all cores)")
    Integer threads;

    @Mixin
    PrecisionOptions precision;

    /** Tokens per row minus one, known after {@link #readRows}. */
    int seqLen;
    private String tokenizerSha256;
    private Configuration conf;   // set by loadModel: only a run that loads something needs Hadoop's settings

    DeepSeekModel loadModel(float balanceAlpha) throws IOException {
        if ((tokens == null) == (data == null)) {
            throw new IllegalArgumentException("give either --tokens FILE --seq-len T or --data DIR, not "
                    + (tokens == null ? "neither" : "both"));
        }
        if (tokens != null && seqLenOption == null) {
            throw new IllegalArgumentException("--tokens needs --seq-len T (tokens per row minus one)");
        }
        conf = HadoopConfs.fromSparkConf();
        ModelLoader.Loaded loaded = ModelLoader.load(checkpoint, conf, balanceAlpha, precision.policy());
        tokenizerSha256 = loaded.tokenizer() == null ? null
                : HexFormat.of().formatHex(ExportMarker.sha256().digest(loaded.tokenizer()));
        return loaded.model();
    }

    /** Every row of the input, each id checked against the model's vocabulary. */
    int[] readRows(DeepSeekModel model) throws IOException {
        if (tokens != null) {
            seqLen = seqLenOption;
            int[] all = TokenFile.read(tokens, seqLen);
            TokenFile.checkVocab(tokens, all, seqLen, model.config().vocabSize());
            return all;
        }
        TokenDataset ds = TokenDataset.open(data, conf, 0);
        Manifest m = ds.manifest();
        if (!Manifest.SPLITS.contains(split)) {
            throw new IllegalArgumentException("--split " + split + ": a data dir has the splits " + Manifest.SPLITS);
        }
        if (m.vocabSize() > model.config().vocabSize()) {
            throw new IllegalArgumentException("--data " + data + " was tokenized with " + m.vocabSize()
                    + " tokens but the model's vocab_size is " + model.config().vocabSize());
        }
        if (tokenizerSha256 != null && !tokenizerSha256.equals(m.tokenizerSha256())) {
            throw new IllegalArgumentException("--data " + data + " was tokenized with another tokenizer (sha256 "
                    + m.tokenizerSha256() + ") than the checkpoint's tokenizer.json (" + tokenizerSha256 + ")");
        }
        long rows = ds.rows(split);
        if (maxRows != null) {
            if (maxRows < 1) {
                throw new IllegalArgumentException("--max-rows must be >= 1, got " + maxRows);
            }
            rows = Math.min(rows, maxRows);
        }
        if (rows == 0) {
            throw new IllegalArgumentException("--data " + data + " has no rows in split '" + split + "'");
        }
        seqLen = m.seqLen();
        if (rows * (seqLen + 1) > MAX_TOKENS) {
            throw new IllegalArgumentException("--data " + data + ": split '" + split + "' has " + rows + " rows of "
                    + (seqLen + 1) + " tokens, more than one pass holds in memory; pass --max-rows "
                    + MAX_TOKENS / (seqLen + 1) + " or fewer");
        }
        return ds.readRows(split, LongStream.range(0, rows).toArray());
    }

    ComputePool pool() {
        return new ComputePool(threads != null ? threads : Runtime.getRuntime().availableProcessors());
    }
}
