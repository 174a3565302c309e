package io.sparkseek.model.balance;

/**
 * Auxiliary-loss-free load balancing (spec §6.1; Wang et al., "Auxiliary-Loss-Free Load Balancing", Alg. 1):
 * at the end of each step {@code b_i ← b_i + γ·sign(c̄ − c_i)} with {@code c̄ = tokens·K/E} and sign(0) = 0.
 */
public final class BiasBalancer {
    private final float gamma;

    /** γ: bias update speed (V3: 0.001, then 0 for the last tokens). */
    public BiasBalancer(float gamma) {
        if (!(gamma >= 0f) || Float.isInfinite(gamma)) {
            throw new IllegalArgumentException("bias update speed gamma must be finite and >= 0, got " + gamma);
        }
        this.gamma = gamma;
    }

    public float gamma() {
        return gamma;
    }

    /** Updates {@code bias} [E] in place from the step's per-expert counts over {@code tokens} tokens. */
    public void update(float[] bias, long[] counts, long tokens, int topK) {
        int e = bias.length;
        if (counts.length != e) {
            throw new IllegalArgumentException("bias has " + e + " experts but counts has " + counts.length);
        }
        if (topK < 1 || tokens < 0) {
            throw new IllegalArgumentException("need topK >= 1 and tokens >= 0, got " + topK + ", " + tokens);
        }
        // sign(c̄ − c_i) = sign(tokens·K − c_i·E), exact in integers
        long total = Math.multiplyExact(tokens, (long) topK);
        for (int i = 0; i < e; i++) {
            int sign = Long.signum(total - Math.multiplyExact(counts[i], (long) e));
            bias[i] += gamma * sign;
        }
    }

    /** Updates the bias of every MoE layer: {@code biases[l]} from {@code load}'s layer l. */
    public void update(float[][] biases, ExpertLoad load, int topK) {
        if (biases.length != load.layers()) {
            throw new IllegalArgumentException(biases.length + " bias vectors for " + load.layers() + " MoE layers");
        }
        for (int l = 0; l < biases.length; l++) {
            update(biases[l], load.counts(l), load.tokens(l), topK);
        }
    }
}
