package io.sparkseek.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.io.AtomicFiles;
import io.sparkseek.model.io.TrainerCheckpoint;
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

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code train-local}: single-process training on a synthetic token stream (no Spark, no data dir). Writes
 * {@code RUN/metrics.jsonl} and trainer checkpoints under {@code RUN/checkpoints/}; {@code --resume} continues
 * bit-exactly from {@code latest}. The Spark {@code train} job runs the same {@link LocalTrainer} steps.
 */
@Command(name = "train-local", mixinStandardHelpOptions = true,
        description = "Train in one process on a synthetic token stream, with checkpoints and exact resume.")
public final class TrainLocalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "HF DeepseekV3 config.json, e.g. conf/models/tiny.json")
    Path model;

    @Option(names = "--out", required = true, description = "run directory (metrics.jsonl, checkpoints/)")
    Path out;

    @Option(names = "--steps", defaultValue = "200", description = "total optimizer steps (default ${DEFAULT-VALUE})")
    long steps;

    @Option(names = "--batch", defaultValue = "4", description = "sequences per step (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--seq-len", defaultValue = "64", description = "default ${DEFAULT-VALUE}")
    int seqLen;

    @Option(names = "--lr", defaultValue = "3e-3", description = "peak learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--min-lr", defaultValue = "3e-4", description = "final learning rate of the cosine (default ${DEFAULT-VALUE})")
    double minLr;

    @Option(names = "--warmup", defaultValue = "20", description = "warm-up steps (default ${DEFAULT-VALUE})")
    long warmup;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the weights and the data (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--synthetic", defaultValue = "PATTERN",
            description = "PATTERN (a repeating random sequence, learnable) or RANDOM (default ${DEFAULT-VALUE})")
    SyntheticTokens.Kind synthetic;

    @Option(names = "--period", defaultValue = "48", description = "PATTERN period in tokens (default ${DEFAULT-VALUE})")
    int period;

    @Option(names = "--gamma", defaultValue = "1e-3", description = "routing-bias update speed (default ${DEFAULT-VALUE})")
    float gamma;

    @Option(names = "--balance-alpha", defaultValue = "1e-4",
            description = "sequence-wise balance loss weight (default ${DEFAULT-VALUE}; 0 disables)")
    float alpha;

    @Mixin
    PrecisionOptions precision;

    @Option(names = "--bf16-moments", description = "AdamW moments in BF16 (always with --precision fp8) (spec §8.1)")
    boolean bf16Moments;

    @Option(names = "--checkpoint-every", defaultValue = "100", description = "steps between checkpoints (default ${DEFAULT-VALUE})")
    long every;

    @Option(names = "--keep", defaultValue = "3", description = "checkpoints kept (default ${DEFAULT-VALUE})")
    int keep;

    @Option(names = "--resume", description = "continue from RUN/checkpoints/latest")
    boolean resume;

    @Option(names = "--threads", description = "compute threads (default: all cores)")
    Integer threads;

    static final String METRICS = "metrics.jsonl";

    @Override
    public Integer call() throws Exception {
        if (steps < 1 || batch < 1 || seqLen < 1 || every < 1) {
            throw new IllegalArgumentException("--steps, --batch, --seq-len and --checkpoint-every must be >= 1");
        }
        ModelConfig cfg = ModelConfig.read(model);
        PrecisionPolicy policy = precision.policy();
        DeepSeekModel m = new DeepSeekModel(cfg, alpha, policy);
        m.initialize(seed);
        boolean bf16 = bf16Moments || policy.bf16Moments();
        AdamW opt = new AdamW(m.params(), AdamWConfig.DEFAULT.withBf16Moments(bf16));
        long start = 0;
        if (resume) {
            TrainerCheckpoint.State st = TrainerCheckpoint.load(TrainerCheckpoint.checkpointsDir(out), m, opt);
            start = st.step();
            System.out.printf("resumed from step %d (%s)%n", start,
                    TrainerCheckpoint.resolve(TrainerCheckpoint.checkpointsDir(out)));
            trimMetrics(out.resolve(METRICS), start);
        } else if (Files.exists(TrainerCheckpoint.checkpointsDir(out).resolve(TrainerCheckpoint.LATEST))) {
            throw new IllegalArgumentException("--out " + out + " already has checkpoints: add --resume to continue"
                    + " that run, or choose another directory");
        }
        LrSchedule schedule = new LrSchedule(lr, minLr, warmup, steps, true);
        LocalTrainer trainer = new LocalTrainer(m, opt, schedule, new LocalTrainer.Settings(1.0, gamma));
        SyntheticTokens data = new SyntheticTokens(synthetic, cfg.vocabSize(), period, seed);
        Map<String, Object> runState = new LinkedHashMap<>();
        runState.put("seed", seed);
        runState.put("data", Map.of("kind", synthetic.name(), "period", period, "vocab", cfg.vocabSize()));
        runState.put("settings", Map.of("batch", batch, "seq_len", seqLen, "lr", lr, "min_lr", minLr,
                "warmup", warmup, "steps", steps, "gamma", gamma, "balance_alpha", alpha, "bf16_moments", bf16,
                "precision", policy.precision().label()));

        Files.createDirectories(out);
        ObjectMapper json = new ObjectMapper();
        int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        try (ComputePool pool = new ComputePool(nThreads);
             BufferedWriter metrics = Files.newBufferedWriter(out.resolve(METRICS), StandardCharsets.UTF_8,
                     StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            for (long s = start; s < steps; s++) {
                LocalTrainer.StepResult r = trainer.step(pool, data.batch(s, batch, seqLen), batch, seqLen);
                double meanVio = r.maxVio().values().stream().mapToDouble(Double::doubleValue).average().orElse(0);
                System.out.printf("step %5d/%d  loss %.4f  ce %.4f  lr %.2e  |g| %.3f  maxvio %.3f  %.0f tok/s%n",
                        s + 1, steps, r.loss(), r.crossEntropy(), r.lr(), r.gradNorm(), meanVio, r.tokensPerSecond());
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("step", s + 1);
                line.put("loss", r.loss());
                line.put("ce_loss", r.crossEntropy());
                line.put("balance_loss", r.balanceLoss());
                line.put("lr", r.lr());
                line.put("grad_norm", r.gradNorm());
                line.put("tokens", r.tokens());
                line.put("tokens_per_s", r.tokensPerSecond());
                line.put("max_vio", r.maxVio());
                metrics.write(json.writeValueAsString(line));
                metrics.newLine();
                if ((s + 1) % every == 0 || s + 1 == steps) {
                    metrics.flush();
                    Path dir = TrainerCheckpoint.save(out, s + 1, m, opt, runState, keep);
                    System.out.println("checkpoint " + dir);
                }
            }
        }
        return 0;
    }

    /**
     * On resume, keeps only the metrics lines of steps the checkpoint covers: a run that died after logging steps
     * past its last checkpoint would otherwise log them twice (and a torn last line would corrupt the next one).
     */
    private static void trimMetrics(Path file, long step) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        ObjectMapper json = new ObjectMapper();
        StringBuilder kept = new StringBuilder();
        int dropped = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = json.readTree(line);
            } catch (IOException e) {
                n = null;
            }
            if (n != null && n.path("step").canConvertToLong() && n.path("step").asLong() <= step) {
                kept.append(line).append('\n');
            } else {
                dropped++;
            }
        }
        if (dropped > 0) {
            AtomicFiles.writeBytes(file, kept.toString().getBytes(StandardCharsets.UTF_8));
            System.out.printf("dropped %d line(s) of %s after step %d (not covered by the checkpoint)%n", dropped,
                    file, step);
        }
    }
}
