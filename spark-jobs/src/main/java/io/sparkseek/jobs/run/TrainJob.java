package io.sparkseek.jobs.run;

import io.sparkseek.data.shard.BatchPlan;
import io.sparkseek.data.shard.Manifest;
import io.sparkseek.data.shard.TokenDataset;
import io.sparkseek.jobs.Messages;
import io.sparkseek.jobs.SparkSessions;
import io.sparkseek.jobs.checkpoint.CheckpointStore;
import io.sparkseek.jobs.config.Redaction;
import io.sparkseek.jobs.config.RunConfig;
import io.sparkseek.jobs.config.RunConfigLoader;
import io.sparkseek.jobs.metrics.MetricsLog;
import io.sparkseek.jobs.metrics.StageMetrics;
import io.sparkseek.jobs.train.StageResult;
import io.sparkseek.jobs.train.StageRunner;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.io.Safetensors;
import io.sparkseek.model.io.SafetensorsFile;
import io.sparkseek.model.io.TensorData;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.optim.AdamW;
import io.sparkseek.model.optim.AdamWConfig;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The training job's driver loop (ARCHITECTURE §2): check the data dir against the model, plan the batches, then
 * for each stage run {@link StageRunner} (broadcast → one task per replica → aggregate → driver update), validate
 * every {@code sparkseek.eval.every} stages, checkpoint every {@code sparkseek.checkpoint.every} stages and at the
 * end, and log one console line and one {@code metrics.jsonl} line per stage. {@code --resume} continues from the
 * run's {@code latest} checkpoint, bit-identically to a run that never stopped.
 */
public final class TrainJob {
    /** Checkpoint extra files. */
    static final String TOKENIZER = "tokenizer.json";
    static final String OUTER = "outer_optimizer.safetensors";
    /** Settings a resumed run may change: how long, how often to checkpoint/validate, and the compute placement. */
    static final Set<String> RESUMABLE_CHANGES = Set.of("sparkseek.train.stages", "sparkseek.checkpoint.every",
            "sparkseek.checkpoint.keep", "sparkseek.eval.every", "sparkseek.eval.batches", "sparkseek.compute.backend",
            "sparkseek.compute.threads");
    /** Seconds between progress lines while one stage runs. */
    static final long PROGRESS_EVERY_SECONDS = 30;

    /**
     * What the job is told: where the data, model config and run live, the resolved settings, resume, and
     * {@code untilStage}: stop (with a checkpoint) after that stage in this invocation, 0 = run to
     * {@code sparkseek.train.stages}. Stopping early and resuming gives the same bits as one uninterrupted run;
     * raising {@code stages} on resume instead stretches the cosine LR horizon from then on.
     */
    public record Options(String data, java.nio.file.Path model, String out, RunConfig run, boolean resume,
                          long untilStage) {
    }

    /** What the job did: the stages run in this call and the last stage's metrics. */
    public record Result(long firstStage, long stagesRun, StageMetrics last) {
    }

    private TrainJob() {
    }

    public static Result run(SparkSession spark, Options o, Consumer<String> log) throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration hadoop = sc.hadoopConfiguration();
        RunConfig run = o.run();
        ModelConfig model = ModelConfig.read(o.model());
        TokenDataset data = TokenDataset.open(o.data(), hadoop);
        Manifest m = data.manifest();
        checkDataAgainstModel(m, model, o);
        long trainRows = data.rows(Manifest.TRAIN);
        BatchPlan plan = BatchPlan.of(run.seed(), trainRows, run.batchSize(), run.replicas());
        byte[] tokenizer = readBytes(hadoop, new Path(new Path(o.data()), m.tokenizer()));
        CheckpointStore store = new CheckpointStore(o.out(), hadoop);
        Validator validator = new Validator(data, run.replicaBatch(), run.evalBatches());

        try (StageRunner runner = new StageRunner(model, run, m.seqLen(), new ShardRowSource(plan, data));
             ComputePool pool = new ComputePool(Math.max(1, run.computeThreads() > 0 ? run.computeThreads()
                     : Runtime.getRuntime().availableProcessors()))) {
            long first = 0;
            if (o.resume()) {
                first = resume(store, runner, run, m, log);
            } else if (store.latest().isPresent()) {
                throw new IllegalArgumentException("--out " + o.out() + " already has checkpoints: add --resume to continue "
                        + "that run, or choose another --out");
            }
            MetricsLog metrics = MetricsLog.open(o.out(), hadoop, first);
            log.accept(String.format("train: %,d train rows (%,d val) of %d tokens, %s mode, %d replicas x %d rows, "
                            + "%d steps per stage, stages %d..%d", trainRows, data.rows(Manifest.VAL), m.seqLen() + 1,
                    run.mode().name().toLowerCase(), run.replicas(), run.replicaBatch(), run.stepsPerStage(), first + 1,
                    run.stages()));
            log.accept("train: " + SparkSessions.describe(spark));
            StageMetrics last = null;
            long stop = o.untilStage() > 0 ? Math.min(o.untilStage(), run.stages()) : run.stages();
            long lastSaved = first;   // the stage of the newest committed checkpoint (0: none yet)
            for (long s = first; s < stop; s++) {
                StageResult r;
                try (StageProgress ignored = new StageProgress(sc, "sparkseek-stage-" + (s + 1), "stage " + (s + 1)
                        + "/" + run.stages(), PROGRESS_EVERY_SECONDS, log)) {
                    r = runner.runStage(sc, s);
                }
                long stageNo = s + 1;
                boolean end = stageNo == stop;
                Validator.Result val = null;
                long evalNanos = 0;
                if (validator.hasRows() && (end || (run.evalEvery() > 0 && stageNo % run.evalEvery() == 0))) {
                    long t0 = System.nanoTime();
                    val = validator.run(runner.model(), pool);
                    evalNanos = System.nanoTime() - t0;
                }
                long ckptNanos = 0;
                if (end || (run.checkpointEvery() > 0 && stageNo % run.checkpointEvery() == 0)) {
                    long t0 = System.nanoTime();
                    try {
                        save(store, runner, run, m, o, tokenizer, stageNo);
                    } catch (IOException e) {
                        throw checkpointFailed(store, stageNo, lastSaved, e);
                    }
                    lastSaved = stageNo;
                    ckptNanos = System.nanoTime() - t0;
                }
                last = metricsOf(r, stageNo, run, runner, val, evalNanos, ckptNanos);
                metrics.append(last);
                log.accept(last.consoleLine(run.stages()));
            }
            return new Result(first, Math.max(0, stop - first), last);
        }
    }

    /** A bad data dir, or one that does not fit the model, stops the job before any work. */
    static void checkDataAgainstModel(Manifest m, ModelConfig model, Options o) {
        if (m.vocabSize() > model.vocabSize()) {
            throw new IllegalArgumentException("the data dir's tokenizer has " + m.vocabSize() + " tokens but the model's "
                    + "vocab_size is " + model.vocabSize() + " (" + o.model() + "): use a model config with vocab_size >= "
                    + m.vocabSize() + ", or prepare the data with a smaller --vocab-size");
        }
        if (m.seqLen() > model.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("the data dir's seq_len " + m.seqLen() + " exceeds the model's "
                    + "max_position_embeddings " + model.maxPositionEmbeddings() + " (" + o.model() + ")");
        }
        if (m.totalSequences(Manifest.TRAIN) < 1) {
            throw new IllegalArgumentException("the data dir " + o.data() + " has no train sequences");
        }
    }

    private static long resume(CheckpointStore store, StageRunner runner, RunConfig run, Manifest m,
                               Consumer<String> log) throws IOException {
        Path dir = store.latest().orElseThrow(() -> new IllegalArgumentException("--resume: " + store.root()
                + " has no committed checkpoint to resume from"));
        boolean local = run.mode() == RunConfig.Mode.LOCAL;
        boolean carry = local && run.innerState() == RunConfig.InnerState.CARRY;
        List<String> extras = new ArrayList<>();
        if (local) {
            extras.add(OUTER);
        }
        if (carry) {
            for (int r = 0; r < run.replicas(); r++) {
                extras.add(innerFile(r));
            }
        }
        CheckpointStore.Loaded loaded = store.load(dir, runner.model(), runner.adamW(), extras);
        Map<String, Object> state = loaded.state().values();
        @SuppressWarnings("unchecked")
        Map<String, String> saved = (Map<String, String>) state.get("run_config");
        Map<String, String> now = RunConfigLoader.asMap(run);
        for (String key : now.keySet()) {
            if (Redaction.isSecret(key)) {
                continue; // stored redacted
            }
            if (!RESUMABLE_CHANGES.contains(key) && !now.get(key).equals(saved.get(key))) {
                throw new IllegalArgumentException("--resume: " + key + " is " + now.get(key) + " but the run was "
                        + "started with " + saved.get(key) + "; only " + RESUMABLE_CHANGES + " may change on resume");
            }
        }
        if (!m.tokenizerSha256().equals(state.get("tokenizer_sha256"))) {
            throw new IllegalArgumentException("--resume: the data dir's tokenizer (sha256 " + m.tokenizerSha256()
                    + ") is not the one the run was trained with (" + state.get("tokenizer_sha256") + ")");
        }
        Object rows = state.get("train_rows");   // absent in checkpoints written before it was recorded
        if (rows != null && ((Number) rows).longValue() != m.totalSequences(Manifest.TRAIN)) {
            throw new IllegalArgumentException("--resume: the data dir's train split now has "
                    + m.totalSequences(Manifest.TRAIN) + " rows but the run was trained on " + rows + " (prep added"
                    + " data since?); every batch depends on that count, so resuming would not continue the same run:"
                    + " resume on a copy of the data dir as it was, or start a new run");
        }
        long stage = ((Number) state.get("stage")).longValue();
        if (local) {
            runner.outer().restore(tensorsOf(loaded.extraFiles().get(OUTER)), ((Number) state.get("outer_step")).longValue());
        }
        Map<Integer, Map<String, float[]>> inner = new java.util.TreeMap<>();
        if (carry) {
            for (int r = 0; r < run.replicas(); r++) {
                inner.put(r, tensorsOf(loaded.extraFiles().get(innerFile(r))));
            }
        }
        runner.resumeAt(stage, inner);
        log.accept("train: resumed from " + dir + " at stage " + stage);
        return stage;
    }

    /**
     * A checkpoint that could not be written: what failed (the store's first line), and that the run can continue
     * from the last committed checkpoint ({@code lastSaved}, 0: none), which a failed save never touches: the
     * new checkpoint becomes {@code latest} only after its {@code _COMMITTED}.
     */
    private static IOException checkpointFailed(CheckpointStore store, long stage, long lastSaved, IOException e) {
        String last = lastSaved > 0 ? "the checkpoint of stage " + lastSaved + " is intact"
                : "no checkpoint had been committed yet";
        return new IOException("checkpoint after stage " + stage + " to " + store.root() + " failed: "
                + Messages.firstLine(e) + "; " + last + ": fix the store, then run again with --resume", e);
    }

    private static void save(CheckpointStore store, StageRunner runner, RunConfig run, Manifest m, Options o,
                             byte[] tokenizer, long stagesDone) throws IOException {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("stage", stagesDone);
        state.put("tokens_seen", stagesDone * run.stepsPerStage() * (long) run.batchSize() * m.seqLen());
        state.put("data", o.data());
        state.put("tokenizer_sha256", m.tokenizerSha256());
        state.put("train_rows", m.totalSequences(Manifest.TRAIN));
        state.put("run_config", Redaction.redact(RunConfigLoader.asMap(run))); // no secrets in checkpoints
        Map<String, byte[]> extras = new LinkedHashMap<>();
        extras.put(TOKENIZER, tokenizer);
        AdamW optimizer = runner.adamW();
        if (optimizer == null) { // local mode: the outer optimizer's velocity is the state to keep
            optimizer = new AdamW(List.of(), AdamWConfig.DEFAULT);
            state.put("outer_step", runner.outer().step());
            extras.put(OUTER, safetensorsBytes(runner.outer().velocity(), "sparkseek-outer-nesterov/1"));
            runner.innerStates().forEach((r, moments) ->
                    extras.put(innerFile(r), safetensorsBytes(moments, "sparkseek-inner-adamw/1")));
        }
        store.save(stagesDone * run.stepsPerStage(), runner.model(), optimizer, state, extras, run.checkpointKeep());
    }

    /** A replica's inner AdamW moments in a checkpoint (local mode with innerState CARRY). */
    static String innerFile(int replica) {
        return String.format("inner_optimizer_r%03d.safetensors", replica);
    }

    /** F32 tensors as safetensors bytes. */
    static byte[] safetensorsBytes(Map<String, float[]> tensors, String format) {
        List<TensorData> list = new ArrayList<>();
        tensors.forEach((name, values) -> list.add(TensorData.f32(name, new long[]{values.length}, values)));
        try {
            java.nio.file.Path tmp = Files.createTempFile("sparkseek-", ".safetensors");
            try {
                Safetensors.write(tmp, list, Map.of("format", format));
                return Files.readAllBytes(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The tensors of safetensors bytes, by name. */
    static Map<String, float[]> tensorsOf(byte[] bytes) throws IOException {
        Map<String, float[]> out = new LinkedHashMap<>();
        java.nio.file.Path tmp = Files.createTempFile("sparkseek-", ".safetensors");
        try {
            Files.write(tmp, bytes);
            try (SafetensorsFile f = Safetensors.open(tmp)) {
                for (String name : f.names()) {
                    out.put(name, f.getFloats(name));
                }
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return out;
    }

    private static StageMetrics metricsOf(StageResult r, long stageNo, RunConfig run, StageRunner runner,
                                          Validator.Result val, long evalNanos, long ckptNanos) {
        Map<String, Double> seconds = new LinkedHashMap<>();
        seconds.put("broadcast", r.broadcastNanos() / 1e9);
        seconds.put("compute", r.computeNanos() / 1e9);
        seconds.put("aggregate", r.aggregateNanos() / 1e9);
        seconds.put("update", r.driverUpdateNanos() / 1e9);
        seconds.put("checkpoint", ckptNanos / 1e9);
        seconds.put("eval", evalNanos / 1e9);
        seconds.put("total", (r.wallNanos() + ckptNanos + evalNanos) / 1e9);
        Map<String, double[]> bias = new LinkedHashMap<>();
        runner.model().routerBiases().forEach((name, b) -> {
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (float x : b) {
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
            }
            bias.put(name.substring(0, name.length() - ".gate.e_score_correction_bias".length()), new double[]{lo, hi});
        });
        return new StageMetrics(stageNo, stageNo * run.stepsPerStage(), r.loss(), val == null ? null : val.loss(),
                val == null ? null : val.perplexity(), val == null ? null : val.maxVioGlobal(), r.lr(),
                Double.isNaN(r.gradNorm()) ? null : r.gradNorm(), r.tokens(), r.tokensPerSecond(), seconds, r.maxVio(),
                bias, r.loads());
    }

    private static byte[] readBytes(Configuration conf, Path p) throws IOException {
        FileSystem fs = p.getFileSystem(conf);
        try (InputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }
}
