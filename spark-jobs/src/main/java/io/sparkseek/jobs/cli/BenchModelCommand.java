package io.sparkseek.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.data.shard.BatchPlan;
import io.sparkseek.data.shard.TokenDataset;
import io.sparkseek.jobs.HadoopConfs;
import io.sparkseek.jobs.metrics.FidelityReport;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.io.HfModelDir;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.optim.AdamW;
import io.sparkseek.model.optim.AdamWConfig;
import io.sparkseek.model.optim.LrSchedule;
import io.sparkseek.model.train.LocalTrainer;
import io.sparkseek.model.train.SyntheticTokens;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code bench-model}: forward + backward + AdamW steps on synthetic tokens after a warm-up; tokens/s is
 * measured over the timed steps only. With {@code --init DIR} and {@code --tokens FILE} it trains a given model on
 * given rows (step s on rows s·batch … (s+1)·batch − 1), which is how {@code scripts/bench-vs-torch} makes this
 * trainer and {@code bench/torch_train.py} train the same model on the same batches.
 */
@Command(name = "bench-model", mixinStandardHelpOptions = true,
        description = "Measure training throughput (forward + backward + AdamW) on synthetic tokens.")
public final class BenchModelCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "HF DeepseekV3 config.json, e.g. conf/models/small.json")
    Path model;

    @Option(names = "--threads", defaultValue = "1", description = "compute threads (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--steps", defaultValue = "5", description = "timed steps (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--warmup", defaultValue = "2", description = "untimed warm-up steps (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--seq-len", defaultValue = "256", description = "default ${DEFAULT-VALUE}")
    int seqLen;

    @Option(names = "--batch", defaultValue = "8", description = "sequences per step (default ${DEFAULT-VALUE})")
    int batch;

    @Mixin
    PrecisionOptions precision;

    @Option(names = "--bf16-moments", description = "AdamW moments in BF16 (always with --precision fp8)")
    boolean bf16Moments;

    @Option(names = "--fp32-moments", description = "AdamW moments in FP32 even with --precision fp8 (the FP8 recipe "
            + "keeps them in BF16): with --versus, makes the FP8 GEMMs the only difference from an FP32 run")
    boolean fp32Moments;

    @Option(names = "--init", description = "HF model dir (config.json + model.safetensors, e.g. from init) to "
            + "start from instead of a seed-1 random init; its config.json must match --model")
    Path init;

    @Option(names = "--tokens", description = "token file (rows of seq-len + 1 little-endian int32, e.g. from "
            + "tokens) to train on instead of random tokens; needs (warmup + steps) x batch rows")
    Path tokens;

    @Option(names = "--data", description = "prepared data dir (from prep) to train on: its train rows in the order of "
            + "the training job's batch plan (BatchPlan, --data-seed, one replica)")
    String data;

    @Option(names = "--data-seed", defaultValue = "1",
            description = "batch-plan seed for --data (default ${DEFAULT-VALUE})")
    long dataSeed;

    @Option(names = "--lr", defaultValue = "1e-3", description = "peak learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--cosine", description = "linear warm-up over --lr-warmup steps, then cosine to --min-lr at the "
            + "last step (default: constant --lr)")
    boolean cosine;

    @Option(names = "--lr-warmup", defaultValue = "0",
            description = "with --cosine: warm-up steps (default ${DEFAULT-VALUE})")
    long lrWarmup;

    @Option(names = "--min-lr", defaultValue = "1e-4",
            description = "with --cosine: final lr (default ${DEFAULT-VALUE})")
    double minLr;

    @Option(names = "--fidelity-out", description = "with --versus: write the loss gap of this precision against the "
            + "--versus one (fidelity.jsonl, summary.json, loss.png, relative_error.png) into this directory")
    Path fidelityOut;

    @Option(names = "--fidelity-window", defaultValue = "20",
            description = "moving-average steps of the relative loss error (default ${DEFAULT-VALUE})")
    int fidelityWindow;

    @Option(names = "--fidelity-skip", defaultValue = "50",
            description = "warm-up steps left out of the fidelity summary (default ${DEFAULT-VALUE})")
    int fidelitySkip;

    @Option(names = "--fidelity-bound", defaultValue = "0.0025",
            description = "bound on the moving-average relative error (default ${DEFAULT-VALUE}: DeepSeek-V3's 0.25%)")
    double fidelityBound;

    @Option(names = "--gamma", defaultValue = "1e-3",
            description = "routing-bias update speed γ (default ${DEFAULT-VALUE}; 0 keeps the bias fixed)")
    float gamma;

    @Option(names = "--json", description = "print one JSON object on stdout and nothing else")
    boolean json;

    @Option(names = "--versus", description = "also train a second model (same init and data) in this precision "
            + "(fp32|fp8), one step of each in turn in this JVM, and report the tokens/s ratio of the pairs: "
            + "steadier than two runs on a machine whose speed drifts")
    String versus;

    @Option(names = "--step-gate", defaultValue = "none", description = "stdin: before each step (warm-up and "
            + "timed) wait for a line on stdin, after it print 'STEP {json}' (step, seconds, loss, rows_sum) on "
            + "stdout; how bench/lockstep.py runs trainers one step at a time in turn (default ${DEFAULT-VALUE})")
    String stepGate;

    @Override
    public Integer call() throws Exception {
        if (steps < 1 || warmup < 0 || seqLen < 1 || batch < 1) {
            throw new IllegalArgumentException("--steps, --seq-len and --batch must be >= 1 and --warmup >= 0");
        }
        ModelConfig cfg = ModelConfig.read(model);
        if (init != null && !ModelConfig.read(init.resolve(HfModelDir.CONFIG)).equals(cfg)) {
            throw new IllegalArgumentException("--init " + init + ": its " + HfModelDir.CONFIG + " differs from "
                    + "--model " + model + "; pass the same config to both (or --model "
                    + init.resolve(HfModelDir.CONFIG) + ")");
        }
        if (tokens != null && data != null) {
            throw new IllegalArgumentException("--tokens " + tokens + " and --data " + data + ": give one of them");
        }
        if (fidelityOut != null && versus == null) {
            throw new IllegalArgumentException("--fidelity-out " + fidelityOut + " compares two runs: add --versus "
                    + "fp32 (the reference) to --precision fp8 (the run under test)");
        }
        StepGate gate = gate();
        TokenDataset dataset = null;
        BatchPlan plan = null;
        if (data != null) {
            dataset = TokenDataset.open(data, HadoopConfs.fromSparkConf());   // cached: a shard is read once
            if (dataset.seqLen() != seqLen) {
                throw new IllegalArgumentException("--data " + data + " has sequences of " + dataset.seqLen()
                        + " tokens; pass --seq-len " + dataset.seqLen());
            }
            if (dataset.vocabSize() > cfg.vocabSize()) {
                throw new IllegalArgumentException("--data " + data + " was tokenized with " + dataset.vocabSize()
                        + " tokens but the model's vocab_size is " + cfg.vocabSize());
            }
            plan = BatchPlan.of(dataSeed, dataset.rows("train"), batch, 1);
        }
        int[] fileRows = null;
        if (tokens != null) {
            fileRows = TokenFile.read(tokens, seqLen);
            TokenFile.checkVocab(tokens, fileRows, seqLen, cfg.vocabSize());
            TokenFile.batch(tokens, fileRows, seqLen, warmup + steps - 1, batch);   // fails now if too short
        }
        PrecisionPolicy policy = precision.policy();
        LocalTrainer trainer = trainer(cfg, policy);
        DeepSeekModel m = trainer.model();
        PrecisionPolicy otherPolicy = versus == null ? null
                : precision.withPrecision(versus).policy();
        LocalTrainer other = otherPolicy == null ? null : trainer(cfg, otherPolicy);
        SyntheticTokens synthetic = new SyntheticTokens(SyntheticTokens.Kind.RANDOM, cfg.vocabSize(), 1, 7);
        double[] stepSeconds = new double[steps];
        double[] otherSeconds = new double[steps];
        double[] losses = new double[warmup + steps];
        double[] otherLosses = new double[warmup + steps];
        try (ComputePool pool = new ComputePool(threads)) {
            if (gate != null) {
                gate.ready();
            }
            for (int s = 0; s < warmup + steps; s++) {
                int[] rows = fileRows != null ? TokenFile.batch(tokens, fileRows, seqLen, s, batch)
                        : dataset != null ? dataset.readRows("train", plan.rows(s))
                        : synthetic.batch(s, batch, seqLen);
                if (gate != null) {
                    gate.await(s);
                }
                LocalTrainer.StepResult r = trainer.step(pool, rows, batch, seqLen);
                if (gate != null) {
                    gate.done(s, r.nanos() / 1e9, r.loss(), rows);
                }
                LocalTrainer.StepResult o = other == null ? null : other.step(pool, rows, batch, seqLen);
                losses[s] = r.loss();
                otherLosses[s] = o == null ? Double.NaN : o.loss();
                if (s >= warmup) {
                    stepSeconds[s - warmup] = r.nanos() / 1e9;
                    otherSeconds[s - warmup] = o == null ? 0 : o.nanos() / 1e9;
                }
                if (!json && o != null) {
                    System.out.printf("step %d%s  %s %.2f s loss %.4f, %s %.2f s loss %.4f%n", s,
                            s < warmup ? " (warm-up)" : "", otherPolicy.describe(), o.nanos() / 1e9, o.loss(),
                            policy.describe(), r.nanos() / 1e9, r.loss());
                    continue;
                }
                if (!json) {
                    System.out.printf("step %d%s  loss %.4f  %.2f s  %.0f tokens/s%n", s, s < warmup ? " (warm-up)" : "",
                            r.loss(), r.nanos() / 1e9, r.tokensPerSecond());
                }
            }
            if (gate != null) {
                gate.awaitEnd();
            }
        }
        double total = Arrays.stream(stepSeconds).sum();
        double[] sorted = stepSeconds.clone();
        Arrays.sort(sorted);
        double median = sorted[steps / 2];
        long tokensPerStep = (long) batch * seqLen;
        long paramCount = m.params().stream().mapToLong(p -> p.size()).sum();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", model.toString());
        out.put("threads", threads);
        out.put("precision", policy.describe());
        out.put("seq_len", seqLen);
        out.put("batch", batch);
        out.put("steps", steps);
        out.put("tokens_per_s", tokensPerStep * steps / total);
        out.put("median_step_s", median);
        out.put("median_tokens_per_s", tokensPerStep / median);
        out.put("final_loss", losses[losses.length - 1]);
        out.put("losses", losses);
        out.put("gamma", gamma);
        out.put("lr", lr);
        out.put("peak_rss_bytes", peakRss());
        out.put("parameters", paramCount);
        out.put("peak_heap_bytes", peakHeap());
        if (other != null) {
            double[] ratio = new double[steps];
            for (int i = 0; i < steps; i++) {
                ratio[i] = otherSeconds[i] / stepSeconds[i];
            }
            Arrays.sort(ratio);
            double[] os = otherSeconds.clone();
            Arrays.sort(os);
            Map<String, Object> vs = new LinkedHashMap<>();
            vs.put("precision", otherPolicy.describe());
            vs.put("median_tokens_per_s", tokensPerStep / os[steps / 2]);
            vs.put("median_step_time_ratio", ratio[steps / 2]);
            vs.put("losses", otherLosses);
            out.put("versus", vs);
            if (!json) {
                System.out.printf("%s vs %s, same JVM, steps in turn: median step %.3f s vs %.3f s; median per-pair "
                                + "tokens/s ratio %s/%s = %.3f%n", policy.describe(), otherPolicy.describe(), median,
                        os[steps / 2], policy.describe(), otherPolicy.describe(), ratio[steps / 2]);
            }
        }
        if (fidelityOut != null) {
            long[] stepNo = new long[losses.length];
            for (int i = 0; i < stepNo.length; i++) {
                stepNo[i] = i + 1;
            }
            FidelityReport report = new FidelityReport(stepNo, otherLosses, losses, fidelityWindow, fidelitySkip);
            String ref = versus;
            String test = precision.precision;
            report.write(fidelityOut, ref, test, fidelityBound);
            out.put("fidelity", report.summary(fidelityBound));
            if (!json) {
                System.out.printf("fidelity %s vs %s -> %s: %s%n", test, ref, fidelityOut,
                        report.summary(fidelityBound));
            }
        }
        if (json) {
            System.out.println(new ObjectMapper().writeValueAsString(out));
        } else {
            System.out.printf("%s  %s  threads %d  seq %d x batch %d: %.0f tokens/s (median step %.3f s), %,d params,"
                            + " peak heap %.0f MiB%n", model, policy.describe(), threads, seqLen, batch,
                    tokensPerStep * steps / total,
                    median, paramCount, peakHeap() / 1048576.0);
            System.out.printf("peak RSS %.0f MiB%n", peakRss() / 1048576.0);
        }
        return 0;
    }

    /** The {@code --step-gate} on this process's stdin/stdout, or null without one. */
    StepGate gate() {
        if (!StepGate.enabled(stepGate)) {
            return null;
        }
        if (versus != null) {
            throw new IllegalArgumentException("--step-gate " + stepGate + " with --versus " + versus + ": the gate "
                    + "runs one trainer per process; drop --versus (bench/lockstep.py runs the second one)");
        }
        return new StepGate(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), System.out);
    }

    private LocalTrainer trainer(ModelConfig cfg, PrecisionPolicy policy) throws IOException {
        DeepSeekModel m;
        if (init != null) {
            m = HfModelDir.load(init, 0f, policy);
        } else {
            m = new DeepSeekModel(cfg, 0f, policy);
            m.initialize(1);
        }
        AdamW opt = new AdamW(m.params(), AdamWConfig.DEFAULT.withBf16Moments(bf16Moments(policy)));
        LrSchedule schedule = cosine ? new LrSchedule(lr, minLr, lrWarmup, warmup + steps, true)
                : new LrSchedule(lr, lr, 0, warmup + steps, false);
        return new LocalTrainer(m, opt, schedule,
                new LocalTrainer.Settings(1.0, gamma));
    }

    /** Whether a trainer in {@code policy} keeps BF16 moments: the policy's choice unless an option overrides it. */
    boolean bf16Moments(PrecisionPolicy policy) {
        if (bf16Moments && fp32Moments) {
            throw new IllegalArgumentException("--bf16-moments and --fp32-moments contradict each other: give one");
        }
        return bf16Moments || (!fp32Moments && policy.bf16Moments());
    }

    /** Peak resident set of this process (VmHWM in /proc/self/status), or -1 where there is none (not Linux). */
    static long peakRss() {
        Path status = Path.of("/proc/self/status");
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }
}
