package io.sparkseek.model.train;

import io.sparkseek.model.balance.BiasBalancer;
import io.sparkseek.model.balance.MaxVio;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.optim.AdamW;
import io.sparkseek.model.optim.GradClip;
import io.sparkseek.model.optim.LrSchedule;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Single-process training steps (spec §6.4): forward with biased selection, backward (the bias gets no
 * gradient), global-norm clipping, AdamW on the FP32 master weights, then the auxiliary-loss-free bias update
 * {@code b ← b + γ·sign(c̄ − c)} from this step's expert loads. The Spark job runs the same steps inside tasks.
 */
public final class LocalTrainer {

    /** @param gradClip max global gradient norm (≤ 0 disables); @param gamma bias update speed γ (0 disables) */
    public record Settings(double gradClip, float gamma) {
        public static final Settings DEFAULT = new Settings(1.0, 1e-3f);
    }

    /** What one step did. {@code maxVio} is MaxVio_batch per MoE layer (spec §6.3), before the bias update. */
    public record StepResult(long step, double loss, double crossEntropy, double balanceLoss, double gradNorm,
                             double lr, int tokens, Map<String, Double> maxVio, long nanos) {
        public double tokensPerSecond() {
            return tokens / (nanos / 1e9);
        }
    }

    private final DeepSeekModel model;
    private final AdamW optimizer;
    private final LrSchedule schedule;
    private final Settings settings;
    private final BiasBalancer balancer;

    public LocalTrainer(DeepSeekModel model, AdamW optimizer, LrSchedule schedule, Settings settings) {
        this.model = model;
        this.optimizer = optimizer;
        this.schedule = schedule;
        this.settings = settings;
        this.balancer = new BiasBalancer(settings.gamma());
    }

    public DeepSeekModel model() {
        return model;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    /** One optimizer step on {@code batch} rows of {@code seqLen + 1} tokens. */
    public StepResult step(ComputePool pool, int[] rows, int batch, int seqLen) {
        long t0 = System.nanoTime();
        model.zeroGrad();
        double loss = model.forward(pool, rows, batch, seqLen);
        model.backward(pool);
        double norm = GradClip.clip(model.params(), settings.gradClip());
        long step = optimizer.step();
        double lr = schedule.lr(step);
        optimizer.update(pool, lr);

        int tokens = model.lastTokens();
        int topK = model.config().numExpertsPerTok();
        Map<String, Double> maxVio = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : model.expertLoads().entrySet()) {
            long[] counts = java.util.Arrays.stream(e.getValue()).asLongStream().toArray();
            maxVio.put(e.getKey(), MaxVio.of(counts, tokens, topK));
            if (settings.gamma() > 0) {
                balancer.update(model.routerBiases().get(e.getKey() + ".gate.e_score_correction_bias"),
                        counts, tokens, topK);
            }
        }
        return new StepResult(step, loss, model.lastCrossEntropy(), model.lastBalanceLoss(), norm, lr, tokens,
                maxVio, System.nanoTime() - t0);
    }
}
