package io.sparkseek.jobs.run;

import io.sparkseek.data.shard.BatchPlan;
import io.sparkseek.data.shard.Manifest;
import io.sparkseek.data.shard.TokenDataset;
import io.sparkseek.jobs.train.RowSource;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Training rows from a prepared data dir: {@link BatchPlan} says which train rows replica r reads at global step g
 * (a pure function of seed, rows, batch size and replicas), {@link TokenDataset} reads them from the Arrow shards
 * through the Hadoop FileSystem API, checksum-verified. Serializable: Spark ships it to every task, which re-opens
 * the data dir lazily and caches decoded shards.
 */
public final class ShardRowSource implements RowSource {
    private final BatchPlan plan;
    private final TokenDataset data;

    public ShardRowSource(BatchPlan plan, TokenDataset data) {
        this.plan = plan;
        this.data = data;
    }

    @Override
    public int[] rows(long globalStep, int replica, int replicaBatch, int seqLen) {
        if (replicaBatch != plan.rowsPerReplica() || seqLen != data.seqLen()) {
            throw new IllegalArgumentException("asked for " + replicaBatch + " rows of seq_len " + seqLen + ", but the plan "
                    + "gives " + plan.rowsPerReplica() + " rows and the data dir has seq_len " + data.seqLen());
        }
        try {
            return data.readRows(Manifest.TRAIN, plan.rows(globalStep, replica));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read training rows of step " + globalStep + " from " + data.uri()
                    + ": " + e.getMessage(), e);
        }
    }
}
