package io.sparkseek.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
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

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
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

    @Option(names = "--init", description = "HF model dir (config.json + model.safetensors, e.g. from init) to "
            + "start from instead of a seed-1 random init; its config.json must match --model")
    Path init;

    @Option(names = "--tokens", description = "token file (rows of seq-len + 1 little-endian int32, e.g. from "
            + "tokens) to train on instead of random tokens; needs (warmup + steps) x batch rows")
    Path tokens;

    @Option(names = "--lr", defaultValue = "1e-3", description = "constant learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--gamma", defaultValue = "1e-3",
            description = "routing-bias update speed γ (default ${DEFAULT-VALUE}; 0 keeps the bias fixed)")
    float gamma;

    @Option(names = "--json", description = "print one JSON object on stdout and nothing else")
    boolean json;

    @Option(names = "--versus", description = "also train a second model (same init and data) in this precision "
            + "(fp32|fp8), one step of each in turn in this JVM, and report the tokens/s ratio of the pairs: "
            + "steadier than two runs on a machine whose speed drifts")
    String versus;

    @Override
    public Integer call() throws Exception {
        if (steps < 1 || warmup < 0 || seqLen < 1 || batch < 1) {
            throw new IllegalArgumentException("--steps, --seq-len and --batch must be >= 1 and --warmup >= 0");
        }
        ModelConfig cfg = ModelConfig.read(model);
        if (init != null && !ModelConfig.read(init.resolve(HfModelDir.CONFIG)).equals(cfg)) {
            throw new IllegalArgumentException("--init " + init + ": its " + HfModelDir.CONFIG + " differs from --model "
                    + model + "; pass the same config to both (or --model " + init.resolve(HfModelDir.CONFIG) + ")");
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
        SyntheticTokens data = new SyntheticTokens(SyntheticTokens.Kind.RANDOM, cfg.vocabSize(), 1, 7);
        double[] stepSeconds = new double[steps];
        double[] otherSeconds = new double[steps];
        double[] losses = new double[warmup + steps];
        try (ComputePool pool = new ComputePool(threads)) {
            for (int s = 0; s < warmup + steps; s++) {
                int[] rows = fileRows == null ? data.batch(s, batch, seqLen)
                        : TokenFile.batch(tokens, fileRows, seqLen, s, batch);
                LocalTrainer.StepResult r = trainer.step(pool, rows, batch, seqLen);
                LocalTrainer.StepResult o = other == null ? null : other.step(pool, rows, batch, seqLen);
                losses[s] = r.loss();
                if (s >= warmup) {
                    stepSeconds[s - warmup] = r.nanos() / 1e9;
                    otherSeconds[s - warmup] = o == null ? 0 : o.nanos() / 1e9;
                }
                if (!json && o != null) {
                    System.out.printf("step %d%s  %s %.2f s, %s %.2f s%n", s, s < warmup ? " (warm-up)" : "",
                            otherPolicy.describe(), o.nanos() / 1e9, policy.describe(), r.nanos() / 1e9);
                    continue;
                }
                if (!json) {
                    System.out.printf("step %d%s  loss %.4f  %.2f s  %.0f tokens/s%n", s, s < warmup ? " (warm-up)" : "",
                            r.loss(), r.nanos() / 1e9, r.tokensPerSecond());
                }
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
            out.put("versus", vs);
            if (!json) {
                System.out.printf("%s vs %s, same JVM, steps in turn: median step %.3f s vs %.3f s; median per-pair "
                                + "tokens/s ratio %s/%s = %.3f%n", policy.describe(), otherPolicy.describe(), median,
                        os[steps / 2], policy.describe(), otherPolicy.describe(), ratio[steps / 2]);
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

    private LocalTrainer trainer(ModelConfig cfg, PrecisionPolicy policy) throws IOException {
        DeepSeekModel m;
        if (init != null) {
            m = HfModelDir.load(init, 0f, policy);
        } else {
            m = new DeepSeekModel(cfg, 0f, policy);
            m.initialize(1);
        }
        AdamW opt = new AdamW(m.params(), AdamWConfig.DEFAULT.withBf16Moments(bf16Moments || policy.bf16Moments()));
        return new LocalTrainer(m, opt, new LrSchedule(lr, lr, 0, warmup + steps, false),
                new LocalTrainer.Settings(1.0, gamma));
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
