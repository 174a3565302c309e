package io.sparkseek.jobs.train;

import java.io.Serializable;

/**
 * Where a replica's training rows come from. A pure function of its arguments (ARCHITECTURE §2: tasks are
 * stateless and deterministic), so a retried task reads the same rows and a resumed run continues the stream.
 */
public interface RowSource extends Serializable {

    /**
     * The rows of replica {@code replica} for optimizer step {@code globalStep} (0-based over the whole run):
     * {@code replicaBatch} rows of {@code seqLen + 1} token ids, row-major ({@code int[replicaBatch · (seqLen+1)]}).
     */
    int[] rows(long globalStep, int replica, int replicaBatch, int seqLen);
}
