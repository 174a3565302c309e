package io.sparkseek.model.optim;

/**
 * AdamW hyper-parameters (spec §11: β1 0.9, β2 0.95, weight decay 0.1; the report gives no ε, we use 1e-8).
 * Weight decay applies to matrices only (every Linear, the embedding, {@code lm_head} and the router gate);
 * norm weights are never decayed, and the routing bias is not a parameter at all.
 *
 * @param bf16Moments keep the first and second moments in BF16 (spec §8.1) instead of FP32
 */
public record AdamWConfig(double beta1, double beta2, double eps, double weightDecay, boolean bf16Moments) {
    public static final AdamWConfig DEFAULT = new AdamWConfig(0.9, 0.95, 1e-8, 0.1, false);

    public AdamWConfig {
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("AdamW beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW beta2 must be in [0, 1), got " + beta2);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("AdamW eps must be > 0, got " + eps);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("AdamW weight decay must be >= 0, got " + weightDecay);
        }
    }

    public AdamWConfig withBf16Moments(boolean bf16) {
        return new AdamWConfig(beta1, beta2, eps, weightDecay, bf16);
    }
}
