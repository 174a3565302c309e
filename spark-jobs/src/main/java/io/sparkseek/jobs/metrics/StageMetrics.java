package io.sparkseek.jobs.metrics;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * One line of {@code <run>/metrics.jsonl} (ARCHITECTURE §3): what one training stage did. Optional values (val loss,
 * MaxVio_global, grad norm) are absent from the JSON when null.
 *
 * @param stage          1-based stage number
 * @param step           optimizer steps done after this stage (stage × steps per stage)
 * @param loss           mean training cross-entropy over the stage's tokens
 * @param valLoss        mean validation cross-entropy, on stages where validation ran
 * @param valPerplexity  exp(valLoss)
 * @param maxVioGlobal   MaxVio_global over the validation split per MoE layer (spec §6.3), when validation ran
 * @param lr             learning rate of the stage's last step
 * @param gradNorm       global gradient norm before clipping (sync mode)
 * @param tokens         training tokens of the stage, all replicas
 * @param tokensPerSecond tokens / total stage seconds
 * @param seconds        the stage's time split: broadcast, compute, aggregate, update, checkpoint, eval, total
 * @param maxVio         MaxVio_batch per MoE layer over the stage's tokens
 * @param biasRange      [min, max] of each MoE layer's routing bias after the stage
 * @param expertLoad     tokens routed to each expert per MoE layer during the stage
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StageMetrics(
        long stage, long step, double loss,
        @JsonProperty("val_loss") Double valLoss,
        @JsonProperty("val_perplexity") Double valPerplexity,
        @JsonProperty("max_vio_global") Map<String, Double> maxVioGlobal,
        double lr,
        @JsonProperty("grad_norm") Double gradNorm,
        long tokens,
        @JsonProperty("tokens_per_s") double tokensPerSecond,
        Map<String, Double> seconds,
        @JsonProperty("max_vio") Map<String, Double> maxVio,
        @JsonProperty("bias_range") Map<String, double[]> biasRange,
        @JsonProperty("expert_load") Map<String, long[]> expertLoad) {

    /** The time-split keys, in order. */
    public static final String[] TIME_KEYS = {"broadcast", "compute", "aggregate", "update", "checkpoint", "eval",
            "total"};

    /** One human line: stage, loss, validation, lr, gradient norm, throughput, MaxVio and the time split. */
    public String consoleLine(long stages) {
        StringBuilder sb = new StringBuilder(String.format("stage %d/%d  step %d  loss %.4f", stage, stages, step, loss));
        if (valLoss != null) {
            sb.append(String.format("  val %.4f (ppl %.2f)", valLoss, valPerplexity));
        }
        sb.append(String.format("  lr %.2e", lr));
        if (gradNorm != null) {
            sb.append(String.format("  |g| %.3f", gradNorm));
        }
        sb.append(String.format("  %.0f tok/s", tokensPerSecond));
        double worst = maxVio.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        sb.append(String.format("  maxvio %.3f", worst));
        if (maxVioGlobal != null) {
            sb.append(String.format(" (global %.3f)", maxVioGlobal.values().stream().mapToDouble(Double::doubleValue)
                    .max().orElse(0)));
        }
        sb.append("  [");
        for (int i = 0; i < TIME_KEYS.length; i++) {
            Double s = seconds.get(TIME_KEYS[i]);
            if (s != null) {
                sb.append(i == 0 ? "" : " ").append(TIME_KEYS[i]).append(String.format(" %.2f", s));
            }
        }
        return sb.append(" s]").toString();
    }
}
