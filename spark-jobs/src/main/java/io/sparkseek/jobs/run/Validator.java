package io.sparkseek.jobs.run;

import io.sparkseek.data.shard.Manifest;
import io.sparkseek.data.shard.TokenDataset;
import io.sparkseek.model.balance.MaxVio;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Validation on the driver: mean next-token cross-entropy and perplexity over the first {@code batches × batch}
 * rows of the val split (all of it when {@code batches} is 0), and MaxVio_global per MoE layer (spec §6.3): the
 * expert loads summed over the whole evaluated set. The same rows every time, so the curve compares like with like.
 */
public final class Validator {
    /** The result of one validation pass. */
    public record Result(double loss, double perplexity, long tokens, Map<String, Double> maxVioGlobal) {
    }

    private final TokenDataset data;
    private final int batch;
    private final long rows;

    public Validator(TokenDataset data, int batch, int batches) {
        this.data = data;
        this.batch = batch;
        long all = data.rows(Manifest.VAL);
        this.rows = batches == 0 ? all : Math.min(all, (long) batches * batch);
    }

    /** Whether the data dir has validation rows at all. */
    public boolean hasRows() {
        return rows > 0;
    }

    public Result run(DeepSeekModel model, ComputePool pool) throws IOException {
        int seqLen = data.seqLen();
        double ceSum = 0;
        long tokens = 0;
        Map<String, long[]> loads = new LinkedHashMap<>();
        for (long r0 = 0; r0 < rows; r0 += batch) {
            int b = (int) Math.min(batch, rows - r0);
            long[] idx = new long[b];
            for (int i = 0; i < b; i++) {
                idx[i] = r0 + i;
            }
            model.forward(pool, data.readRows(Manifest.VAL, idx), b, seqLen);
            int n = model.lastTokens();
            ceSum += model.lastCrossEntropy() * n;
            tokens += n;
            model.expertLoads().forEach((layer, counts) -> {
                long[] acc = loads.computeIfAbsent(layer, k -> new long[counts.length]);
                for (int i = 0; i < counts.length; i++) {
                    acc[i] += counts[i];
                }
            });
        }
        int topK = model.config().numExpertsPerTok();
        Map<String, Double> vio = new LinkedHashMap<>();
        long t = tokens;
        loads.forEach((layer, counts) -> vio.put(layer, MaxVio.of(counts, t, topK)));
        double loss = ceSum / tokens;
        return new Result(loss, Math.exp(loss), tokens, vio);
    }
}
