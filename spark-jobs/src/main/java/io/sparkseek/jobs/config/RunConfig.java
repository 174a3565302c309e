package io.sparkseek.jobs.config;

import java.io.Serializable;

/**
 * The resolved {@code sparkseek.*} run settings of the training job (ARCHITECTURE §5), typed and validated once.
 * {@link RunConfigLoader} builds it from the layers (CLI flag > {@code --conf} / Spark conf > properties file >
 * {@code conf/sparkseek-defaults.conf}); every key is documented there.
 *
 * @param mode            {@code sparkseek.train.mode}: sync (H = 1, driver-side AdamW) or local (H inner steps)
 * @param replicas        {@code sparkseek.train.replicas}: tasks per stage
 * @param localSteps      {@code sparkseek.train.localSteps}: H, inner steps per task per stage (local mode)
 * @param stages          {@code sparkseek.train.stages}: stages in total (a resumed run continues up to this)
 * @param batchSize       {@code sparkseek.train.batchSize}: sequences per step, summed over replicas
 * @param seed            {@code sparkseek.train.seed}: the one seed everything derives from
 * @param precision       {@code sparkseek.train.precision}: fp32 or fp8
 * @param lr              {@code sparkseek.train.lr}: peak learning rate
 * @param minLr           {@code sparkseek.train.minLr}: final learning rate of the cosine decay
 * @param warmupSteps     {@code sparkseek.train.warmupSteps}
 * @param gradClip        {@code sparkseek.train.gradClip}: max global gradient norm (0 disables)
 * @param innerState      {@code sparkseek.train.innerState}: local mode's inner AdamW state between stages
 * @param outerLr         {@code sparkseek.train.outerLr}: local mode's outer Nesterov learning rate
 * @param outerMomentum   {@code sparkseek.train.outerMomentum}
 * @param balanceGamma    {@code sparkseek.balance.gamma}: routing-bias update speed (0 disables)
 * @param balanceRecenter {@code sparkseek.balance.recenter}: shift each layer's bias to zero mean after updates
 * @param balanceAlpha    {@code sparkseek.balance.alpha}: sequence-wise balance loss weight (0 disables)
 * @param evalEvery       {@code sparkseek.eval.every}: stages between validation runs (0: only at the end)
 * @param evalBatches     {@code sparkseek.eval.batches}: validation batches per evaluation (0: the whole split)
 * @param checkpointEvery {@code sparkseek.checkpoint.every}: stages between checkpoints (0: only at the end)
 * @param checkpointKeep  {@code sparkseek.checkpoint.keep}: committed checkpoints kept (older ones deleted)
 * @param computeBackend  {@code sparkseek.compute.backend}: auto, opencl or java
 * @param computeThreads  {@code sparkseek.compute.threads}: threads per task (0: the task's cores)
 */
public record RunConfig(Mode mode, int replicas, int localSteps, long stages, int batchSize, long seed,
                        String precision, double lr, double minLr, long warmupSteps, double gradClip,
                        InnerState innerState, double outerLr, double outerMomentum, float balanceGamma,
                        boolean balanceRecenter, float balanceAlpha, long evalEvery, int evalBatches,
                        long checkpointEvery, int checkpointKeep, String computeBackend, int computeThreads)
        implements Serializable {

    /** The two training modes of ARCHITECTURE §2. */
    public enum Mode { SYNC, LOCAL }

    /** What happens to the inner optimizer's state between stages in local mode. */
    public enum InnerState {
        /** every stage starts the inner AdamW afresh (moments zero) */
        RESET,
        /** the driver carries each replica's inner AdamW moments from stage to stage (in checkpoints too) */
        CARRY
    }

    public RunConfig {
        if (replicas < 1) {
            throw new IllegalArgumentException("sparkseek.train.replicas must be >= 1, got " + replicas);
        }
        if (localSteps < 1) {
            throw new IllegalArgumentException("sparkseek.train.localSteps must be >= 1, got " + localSteps);
        }
        if (mode == Mode.SYNC && localSteps != 1) {
            throw new IllegalArgumentException("sparkseek.train.localSteps must be 1 in sync mode, got " + localSteps
                    + " (use sparkseek.train.mode=local for H > 1)");
        }
        if (stages < 1) {
            throw new IllegalArgumentException("sparkseek.train.stages must be >= 1, got " + stages);
        }
        if (batchSize < replicas || batchSize % replicas != 0) {
            throw new IllegalArgumentException("sparkseek.train.batchSize " + batchSize + " must be a positive multiple "
                    + "of sparkseek.train.replicas " + replicas);
        }
        if (!precision.equals("fp32") && !precision.equals("fp8")) {
            throw new IllegalArgumentException("sparkseek.train.precision must be fp32 or fp8, got '" + precision + "'");
        }
        if (!(lr > 0) || !(minLr >= 0) || minLr > lr) {
            throw new IllegalArgumentException("sparkseek.train.lr must be > 0 and sparkseek.train.minLr in [0, lr], got "
                    + lr + " and " + minLr);
        }
        if (warmupSteps < 0 || !(gradClip >= 0)) {
            throw new IllegalArgumentException("sparkseek.train.warmupSteps and sparkseek.train.gradClip must be >= 0");
        }
        if (!(outerLr > 0) || !(outerMomentum >= 0 && outerMomentum < 1)) {
            throw new IllegalArgumentException("sparkseek.train.outerLr must be > 0 and sparkseek.train.outerMomentum in "
                    + "[0, 1), got " + outerLr + " and " + outerMomentum);
        }
        if (!(balanceGamma >= 0) || !(balanceAlpha >= 0)) {
            throw new IllegalArgumentException("sparkseek.balance.gamma and sparkseek.balance.alpha must be >= 0");
        }
        if (evalEvery < 0 || evalBatches < 0 || checkpointEvery < 0 || checkpointKeep < 1 || computeThreads < 0) {
            throw new IllegalArgumentException("sparkseek.eval.every, sparkseek.eval.batches, sparkseek.checkpoint.every "
                    + "and sparkseek.compute.threads must be >= 0, and sparkseek.checkpoint.keep >= 1");
        }
        if (!computeBackend.equals("auto") && !computeBackend.equals("opencl") && !computeBackend.equals("java")) {
            throw new IllegalArgumentException("sparkseek.compute.backend must be auto, opencl or java, got '"
                    + computeBackend + "'");
        }
    }

    /** Optimizer steps per stage: H in local mode, 1 in sync mode. */
    public int stepsPerStage() {
        return mode == Mode.SYNC ? 1 : localSteps;
    }

    /** Sequences per step per replica. */
    public int replicaBatch() {
        return batchSize / replicas;
    }
}
