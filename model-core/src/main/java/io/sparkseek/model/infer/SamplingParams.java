package io.sparkseek.model.infer;

/**
 * How the next token is chosen from the logits: {@code temperature = 0} is greedy (argmax, lowest id on ties);
 * otherwise softmax(logits / temperature) restricted to the top-p nucleus, drawn with a generator seeded by
 * {@code seed} (same seed and logits ⇒ same tokens).
 *
 * @param temperature ≥ 0, finite
 * @param topP        nucleus mass in (0, 1]; 1 keeps the whole distribution
 * @param seed        seed of the {@link java.util.SplittableRandom} of one generation
 */
public record SamplingParams(double temperature, double topP, long seed) {
    /** Greedy decoding (no randomness). */
    public static final SamplingParams GREEDY = new SamplingParams(0.0, 1.0, 0L);

    public SamplingParams {
        if (!(temperature >= 0.0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and >= 0 (0 = greedy), got " + temperature);
        }
        if (!(topP > 0.0 && topP <= 1.0)) {
            throw new IllegalArgumentException("top-p must be in (0, 1] (1 = no nucleus cut), got " + topP);
        }
    }

    public boolean greedy() {
        return temperature == 0.0;
    }
}
