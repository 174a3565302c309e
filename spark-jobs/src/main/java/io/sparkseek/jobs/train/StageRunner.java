package io.sparkseek.jobs.train;

import io.sparkseek.jobs.config.RunConfig;
import io.sparkseek.model.balance.BiasBalancer;
import io.sparkseek.model.balance.MaxVio;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.kernel.ComputeBackend;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;
import io.sparkseek.model.optim.AdamW;
import io.sparkseek.model.optim.AdamWConfig;
import io.sparkseek.model.optim.GradClip;
import io.sparkseek.model.optim.LrSchedule;
import io.sparkseek.model.optim.OuterNesterov;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The driver side of one training stage (ARCHITECTURE §2): broadcast the master state → one Spark task per replica
 * → {@code treeAggregate} → optimizer step on the driver. Holds everything a stage needs to be recomputed: the FP32
 * master weights and routing biases ({@link #model()}), the sync-mode AdamW ({@link #adamW()}), the local-mode
 * outer Nesterov ({@link #outer()}) and, with innerState CARRY, every replica's inner AdamW moments
 * ({@link #innerStates()}); a checkpoint stores these and {@link #resumeAt} continues from them.
 *
 * <p><b>Sync</b> (H = 1): each task does one forward + backward on its {@code batchSize / replicas} rows and returns
 * dW; the driver averages dW over replicas, clips, and runs AdamW — exactly {@link
 * io.sparkseek.model.train.LocalTrainer#step} on the global batch (equal rows per replica, so the mean of the
 * replicas' mean-loss gradients is the global mean-loss gradient). <b>Local</b> (H &gt; 1, DiLoCo): each task runs
 * H inner AdamW steps at the LR a single process would use at those global steps, with the routing bias held fixed
 * (γ = 0 inside tasks), and returns Δw; the driver applies {@link OuterNesterov} to the mean Δw. Both modes then
 * retune the routing bias from the stage's summed expert loads (sign rule), never by gradient.
 *
 * <p><b>Why results are keyed by replica.</b> Float addition is not associative and Spark merges partial results
 * in the order tasks finish, so summing tensors inside {@code treeAggregate} would make the bits depend on timing,
 * retries and executor count. The combine step therefore only merges {@code replica → result} maps, and the driver
 * sums the tensors in replica order (in double, rounded once to FP32). The cost: the driver holds all R results at
 * once, R × (model size × 4 bytes) plus the expert loads, instead of one running sum, and
 * {@code spark.driver.maxResultSize} (default 1g) must exceed that (R = 8 replicas of a 30M-parameter model: ~1 GB).
 * For the same reason the tree has depth 1 ({@link #TREE_DEPTH}): merging maps does not shrink them, so an
 * intermediate level would only shuffle every result once more. Summing fixed groups of replicas (in replica order)
 * on executors would cut driver memory and stay deterministic; not done yet.
 *
 * <p><b>innerState CARRY</b>: replica r's inner AdamW moments (2 × model size) travel in its own partition of the
 * parallelized input, not in the broadcast, so each task receives only its own; the task returns them updated and
 * the driver keeps them by replica. RESET sends nothing and starts every stage's inner AdamW at zero moments.
 */
public final class StageRunner implements AutoCloseable {
    private static final String BIAS_SUFFIX = ".gate.e_score_correction_bias";
    /** treeAggregate depth: 1, since an intermediate merge of replica maps moves the same bytes (class comment). */
    static final int TREE_DEPTH = 1;

    private final ModelConfig modelConfig;
    private final String modelJson;               // shipped to tasks (ModelConfig itself is not Serializable)
    private final RunConfig run;
    private final int seqLen;
    private final RowSource rows;
    private final DeepSeekModel master;           // FP32 master weights + routing biases; grads used as scratch
    private final AdamW adamW;                    // sync mode only
    private final OuterNesterov outer;            // local mode only
    private final LrSchedule schedule;
    private final BiasBalancer balancer;
    private final List<String> moeLayers;         // MoE layer prefixes, routing-bias order
    private final Map<Integer, Map<String, float[]>> inner = new TreeMap<>();   // CARRY: replica → moments
    private final ComputePool pool;
    private long nextStage;
    private int failFirstAttemptOf = -1;          // test hook: replica whose first task attempt throws

    /** A runner whose master model is initialised from {@code run.seed()}; stage 0 comes next. */
    public StageRunner(ModelConfig modelConfig, RunConfig run, int seqLen, RowSource rows) {
        if (seqLen < 1 || seqLen > modelConfig.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("seq_len must be in [1, max_position_embeddings "
                    + modelConfig.maxPositionEmbeddings() + "], got " + seqLen);
        }
        this.modelConfig = modelConfig;
        this.modelJson = modelConfig.toJson();
        this.run = run;
        this.seqLen = seqLen;
        this.rows = rows;
        this.master = new DeepSeekModel(modelConfig, run.balanceAlpha(), PrecisionPolicy.FP32);
        master.initialize(run.seed());
        boolean sync = run.mode() == RunConfig.Mode.SYNC;
        this.adamW = sync ? new AdamW(master.params(), adamConfig(run)) : null;
        this.outer = sync ? null : new OuterNesterov(master.params(), run.outerLr(), run.outerMomentum());
        this.schedule = schedule(run);
        this.balancer = new BiasBalancer(run.balanceGamma());
        List<String> layers = new ArrayList<>();
        for (String name : master.routerBiases().keySet()) {
            layers.add(name.substring(0, name.length() - BIAS_SUFFIX.length()));
        }
        this.moeLayers = List.copyOf(layers);
        int threads = run.computeThreads() > 0 ? run.computeThreads() : Runtime.getRuntime().availableProcessors();
        this.pool = new ComputePool(threads);
    }

    /** The LR schedule of the run: warmup, then cosine from lr to minLr over stages × steps per stage. */
    public static LrSchedule schedule(RunConfig run) {
        return new LrSchedule(run.lr(), run.minLr(), run.warmupSteps(), run.stages() * run.stepsPerStage(), true);
    }

    /** AdamW settings: moments in BF16 with fp8 precision (spec §8.1), as {@code train-local} does. */
    static AdamWConfig adamConfig(RunConfig run) {
        return AdamWConfig.DEFAULT.withBf16Moments(run.precision().equals("fp8"));
    }

    /** The driver's model: FP32 master weights and routing biases (live). */
    public DeepSeekModel model() {
        return master;
    }

    /** Sync mode's AdamW on the master weights; null in local mode. */
    public AdamW adamW() {
        return adamW;
    }

    /** Local mode's outer optimizer (its velocity is checkpoint state); null in sync mode. */
    public OuterNesterov outer() {
        return outer;
    }

    /** innerState CARRY: each replica's inner AdamW moments after the last stage (copies); empty otherwise. */
    public Map<Integer, Map<String, float[]>> innerStates() {
        Map<Integer, Map<String, float[]>> out = new TreeMap<>();
        inner.forEach((r, m) -> out.put(r, Collections.unmodifiableMap(m)));
        return out;
    }

    /** The stage {@link #runStage} expects next. */
    public long nextStage() {
        return nextStage;
    }

    /**
     * After a checkpoint was loaded into {@link #model()} and the optimizers: continue at {@code stage}, with
     * {@code innerStates} (replica → inner AdamW moments, CARRY only; may be empty).
     */
    public void resumeAt(long stage, Map<Integer, Map<String, float[]>> innerStates) {
        if (stage < 0 || stage > run.stages()) {
            throw new IllegalArgumentException("cannot resume at stage " + stage + " of " + run.stages());
        }
        this.nextStage = stage;
        inner.clear();
        inner.putAll(innerStates);
    }

    /** Test hook: the first attempt of replica {@code replica}'s task throws in every later stage (-1: none). */
    void failFirstAttemptOf(int replica) {
        this.failFirstAttemptOf = replica;
    }

    /** Runs stage {@code stage} (0-based; stages run in order) on {@code sc} and updates the master state. */
    public StageResult runStage(JavaSparkContext sc, long stage) {
        if (stage != nextStage) {
            throw new IllegalStateException("stage " + stage + " requested, but the state is at stage " + nextStage);
        }
        if (stage >= run.stages()) {
            throw new IllegalStateException("stage " + stage + " is past sparkseek.train.stages " + run.stages());
        }
        boolean sync = run.mode() == RunConfig.Mode.SYNC;
        int replicas = run.replicas();
        int h = run.stepsPerStage();
        long optimizerSteps = sync ? adamW.step() : outer.step();
        if (optimizerSteps != stage) {
            throw new IllegalStateException((sync ? "AdamW" : "the outer optimizer") + " has taken " + optimizerSteps
                    + " steps but stage " + stage + " is next: restore the optimizer state with the checkpoint");
        }
        String description = sync ? "stage " + (stage + 1) + ": sync step"
                : "stage " + (stage + 1) + ": " + h + " local steps";
        sc.setJobGroup("sparkseek-stage-" + (stage + 1), description, false);
        Broadcast<ModelState> state = null;
        try {
            long t0 = System.nanoTime();
            state = sc.broadcast(ModelState.of(master));
            long broadcastNanos = System.nanoTime() - t0;

            // one element per replica, so parallelize(…, R) gives each partition (task) exactly one replica
            List<ReplicaInput> inputs = new ArrayList<>(replicas);
            for (int r = 0; r < replicas; r++) {
                boolean carry = !sync && run.innerState() == RunConfig.InnerState.CARRY;
                inputs.add(new ReplicaInput(r, carry ? inner.get(r) : null, carry ? stage * h : 0));
            }
            ReplicaTask task = new ReplicaTask(state, modelJson, run, seqLen, rows, stage, failFirstAttemptOf);
            long t1 = System.nanoTime();
            TreeMap<Integer, ReplicaResult> byReplica = sc.parallelize(inputs, replicas).map(task)
                    .treeAggregate(new TreeMap<>(), StageRunner::add, StageRunner::merge, TREE_DEPTH);
            long jobNanos = System.nanoTime() - t1;
            if (byReplica.size() != replicas) {
                throw new IllegalStateException("stage " + stage + ": " + byReplica.size() + " replica results for "
                        + replicas + " replicas");
            }
            long computeNanos = 0;
            for (ReplicaResult r : byReplica.values()) {
                computeNanos = Math.max(computeNanos, r.computeNanos());
            }

            long t2 = System.nanoTime();
            float[][] mean = meanInReplicaOrder(byReplica, master.params());
            long[][] loads = new long[moeLayers.size()][modelConfig.nRoutedExperts()];
            double ceSum = 0;
            long tokens = 0;
            for (ReplicaResult r : byReplica.values()) {   // TreeMap: ascending replica index
                for (int l = 0; l < loads.length; l++) {
                    for (int e = 0; e < loads[l].length; e++) {
                        loads[l][e] += r.loads()[l][e];
                    }
                }
                ceSum += r.ceTokenSum();
                tokens += r.tokens();
            }
            long aggregateNanos = Math.max(0, jobNanos - computeNanos) + (System.nanoTime() - t2);

            long t3 = System.nanoTime();
            long firstStep = stage * h;
            double lr = schedule.lr(firstStep);
            double gradNorm = Double.NaN;
            if (sync) {
                gradNorm = adamStep(mean, lr);
            } else {
                outer.update(mean);
                if (run.innerState() == RunConfig.InnerState.CARRY) {
                    for (ReplicaResult r : byReplica.values()) {
                        inner.put(r.replica(), r.innerMoments());
                    }
                }
            }
            Map<String, long[]> loadMap = new LinkedHashMap<>();
            Map<String, Double> maxVio = new LinkedHashMap<>();
            int topK = modelConfig.numExpertsPerTok();
            for (int l = 0; l < moeLayers.size(); l++) {
                String layer = moeLayers.get(l);
                loadMap.put(layer, loads[l]);
                maxVio.put(layer, MaxVio.of(loads[l], tokens, topK));
                retuneBias(master.routerBiases().get(layer + BIAS_SUFFIX), loads[l], tokens, topK);
            }
            long driverUpdateNanos = System.nanoTime() - t3;
            nextStage = stage + 1;
            return new StageResult(stage, h, ceSum / tokens, tokens, gradNorm, lr, loadMap, maxVio, broadcastNanos,
                    computeNanos, aggregateNanos, driverUpdateNanos, System.nanoTime() - t0);
        } finally {
            if (state != null) {
                state.destroy();
            }
            sc.clearJobGroup();
        }
    }

    /** Sync mode: install the mean dW, clip, AdamW at {@code lr} — LocalTrainer.step's order. Returns the norm. */
    private double adamStep(float[][] meanGrad, double lr) {
        List<Param> params = master.params();
        for (int i = 0; i < params.size(); i++) {
            System.arraycopy(meanGrad[i], 0, params.get(i).g(), 0, meanGrad[i].length);
        }
        double norm = GradClip.clip(params, run.gradClip());
        adamW.update(pool, lr);
        return norm;
    }

    /**
     * The auxiliary-loss-free rule {@code b ← b + γ·sign(c̄ − c)} on the stage's summed loads (spec §6.1). With
     * {@code sparkseek.balance.recenter}, the layer's bias is then shifted to zero mean: selection is invariant to
     * a common shift (group scores move by the same amount for every group, top-k scores likewise; the gate weights
     * never see the bias), so re-centring changes no routing and only keeps the biases near zero, where FP32 is
     * finest, instead of drifting by γ·Σ sign per stage. It makes steps differ from ±γ by the common shift.
     */
    private void retuneBias(float[] bias, long[] counts, long tokens, int topK) {
        if (run.balanceGamma() <= 0) {
            return;
        }
        balancer.update(bias, counts, tokens, topK);
        if (run.balanceRecenter()) {
            double sum = 0;
            for (float b : bias) {
                sum += b;
            }
            float mean = (float) (sum / bias.length);
            for (int e = 0; e < bias.length; e++) {
                bias[e] -= mean;
            }
        }
    }

    /**
     * Mean over replicas of each tensor: summed in double in ascending replica order, divided by R, rounded once to
     * FP32. A pure function of the per-replica results, whatever order Spark delivered them in.
     */
    static float[][] meanInReplicaOrder(TreeMap<Integer, ReplicaResult> byReplica, List<Param> params) {
        int n = params.size();
        int replicas = byReplica.size();
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            int size = params.get(i).size();
            double[] acc = new double[size];
            for (ReplicaResult r : byReplica.values()) {
                float[] t = r.tensors()[i];
                if (t.length != size) {
                    throw new IllegalStateException("replica " + r.replica() + " returned " + t.length
                            + " values for " + params.get(i).name() + " of " + size);
                }
                for (int j = 0; j < size; j++) {
                    acc[j] += t[j];
                }
            }
            float[] mean = new float[size];
            for (int j = 0; j < size; j++) {
                mean[j] = (float) (acc[j] / replicas);
            }
            out[i] = mean;
        }
        return out;
    }

    /** treeAggregate's seqOp: file a task's result under its replica (no arithmetic). */
    static TreeMap<Integer, ReplicaResult> add(TreeMap<Integer, ReplicaResult> acc, ReplicaResult r) {
        if (acc.put(r.replica(), r) != null) {
            throw new IllegalStateException("two results for replica " + r.replica());
        }
        return acc;
    }

    /** treeAggregate's combOp: union of two disjoint replica maps (no arithmetic, so order does not matter). */
    static TreeMap<Integer, ReplicaResult> merge(TreeMap<Integer, ReplicaResult> a, TreeMap<Integer, ReplicaResult> b) {
        for (ReplicaResult r : b.values()) {
            add(a, r);
        }
        return a;
    }

    @Override
    public void close() {
        pool.close();
    }

    /** A task's input: its replica index and, with innerState CARRY, its inner AdamW state (moments, steps). */
    record ReplicaInput(int replica, Map<String, float[]> moments, long innerSteps) implements Serializable {
    }

    /**
     * One replica's work for one stage, run inside a Spark task. Stateless: everything comes from the broadcast
     * state, the config and the (seed-determined) rows, so a retried attempt returns the same bits.
     */
    static final class ReplicaTask implements Function<ReplicaInput, ReplicaResult> {
        private static final long serialVersionUID = 1L;

        private final Broadcast<ModelState> state;
        private final String modelJson;
        private final RunConfig run;
        private final int seqLen;
        private final RowSource rows;
        private final long stage;
        private final int failFirstAttemptOf;

        ReplicaTask(Broadcast<ModelState> state, String modelJson, RunConfig run, int seqLen, RowSource rows,
                    long stage, int failFirstAttemptOf) {
            this.state = state;
            this.modelJson = modelJson;
            this.run = run;
            this.seqLen = seqLen;
            this.rows = rows;
            this.stage = stage;
            this.failFirstAttemptOf = failFirstAttemptOf;
        }

        @Override
        public ReplicaResult call(ReplicaInput input) {
            long t0 = System.nanoTime();
            ModelState before = state.value();
            // fp8: the backend of the GPU Spark assigned to this task (or the CPU path), closed with the task
            ComputeBackend backend = run.precision().equals("fp8") ? TaskBackend.open(run.computeBackend()) : null;
            PrecisionPolicy policy = backend != null ? PrecisionPolicy.fp8(backend) : PrecisionPolicy.FP32;
            TaskContext ctx = TaskContext.get();
            int threads = run.computeThreads() > 0 ? run.computeThreads() : Math.max(1, ctx == null ? 1 : ctx.cpus());
            ReplicaResult out;
            try (ComputePool pool = new ComputePool(threads)) {
                DeepSeekModel model = new DeepSeekModel(ModelConfig.fromJson(modelJson), run.balanceAlpha(), policy);
                before.loadInto(model);
                out = run.mode() == RunConfig.Mode.SYNC ? sync(pool, model, input.replica())
                        : local(pool, model, before, input);
            } finally {
                if (backend != null) {
                    backend.close();
                }
            }
            if (input.replica() == failFirstAttemptOf && ctx != null && ctx.attemptNumber() == 0) {
                throw new IllegalStateException("injected failure: first attempt of replica " + input.replica()
                        + " in stage " + stage);
            }
            return new ReplicaResult(out.replica(), out.tensors(), out.loads(), out.ceTokenSum(), out.tokens(),
                    System.nanoTime() - t0, out.innerMoments());
        }

        /** One forward + backward on this replica's rows of global step {@code stage}; returns dW per tensor. */
        private ReplicaResult sync(ComputePool pool, DeepSeekModel model, int replica) {
            int batch = run.replicaBatch();
            long[][] loads = newLoads(model);
            model.zeroGrad();
            model.forward(pool, rows.rows(stage, replica, batch, seqLen), batch, seqLen);
            model.backward(pool);
            addLoads(loads, model);
            List<Param> params = model.params();
            float[][] dW = new float[params.size()][];
            for (int i = 0; i < dW.length; i++) {
                dW[i] = params.get(i).g();   // the task's model is discarded: hand its gradient arrays over
            }
            long tokens = model.lastTokens();
            return new ReplicaResult(replica, dW, loads, model.lastCrossEntropy() * tokens, tokens, 0, null);
        }

        /**
         * H inner steps (LocalTrainer.step's sequence: zeroGrad, forward, backward, clip, AdamW) at the LR of global
         * steps stage·H … stage·H + H − 1; routing bias fixed. Returns Δw = w_after − w_before per tensor.
         */
        private ReplicaResult local(ComputePool pool, DeepSeekModel model, ModelState before, ReplicaInput input) {
            int batch = run.replicaBatch();
            int h = run.stepsPerStage();
            AdamW opt = new AdamW(model.params(), adamConfig(run));
            if (input.moments() != null) {
                opt.restore(input.moments(), input.innerSteps());
            }
            LrSchedule lrs = schedule(run);
            long[][] loads = newLoads(model);
            double ceSum = 0;
            long tokens = 0;
            for (int k = 0; k < h; k++) {
                long step = stage * h + k;
                model.zeroGrad();
                model.forward(pool, rows.rows(step, input.replica(), batch, seqLen), batch, seqLen);
                model.backward(pool);
                GradClip.clip(model.params(), run.gradClip());
                opt.update(pool, lrs.lr(step));
                addLoads(loads, model);
                ceSum += model.lastCrossEntropy() * model.lastTokens();
                tokens += model.lastTokens();
            }
            List<Param> params = model.params();
            float[][] delta = new float[params.size()][];
            for (int i = 0; i < delta.length; i++) {
                float[] w = params.get(i).w();
                float[] w0 = before.weights(i);
                float[] d = new float[w.length];
                for (int j = 0; j < d.length; j++) {
                    d[j] = w[j] - w0[j];
                }
                delta[i] = d;
            }
            Map<String, float[]> moments = run.innerState() == RunConfig.InnerState.CARRY ? opt.moments() : null;
            return new ReplicaResult(input.replica(), delta, loads, ceSum, tokens, 0, moments);
        }

        private static long[][] newLoads(DeepSeekModel model) {
            return new long[model.routerBiases().size()][model.config().nRoutedExperts()];
        }

        /** Adds the last forward's expert counts (expertLoads() is in routing-bias order). */
        private static void addLoads(long[][] loads, DeepSeekModel model) {
            int l = 0;
            for (int[] counts : model.expertLoads().values()) {
                for (int e = 0; e < counts.length; e++) {
                    loads[l][e] += counts[e];
                }
                l++;
            }
        }
    }
}
