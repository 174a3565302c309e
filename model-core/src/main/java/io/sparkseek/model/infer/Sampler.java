package io.sparkseek.model.infer;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Next-token choice from logits [V] (one generation's state: its random generator).
 * <ul>
 *   <li>greedy (temperature 0): the argmax, lowest id among equal maxima; draws no random number;</li>
 *   <li>otherwise p = softmax(logits / temperature) in double; the nucleus is the shortest prefix of the ids sorted by
 *       descending p (ties: lower id first) whose mass reaches top-p, i.e. id i is kept iff the mass of the ids before
 *       it is &lt; top-p (Holtzman et al. 2020); one {@code nextDouble()} u picks the id where the nucleus' cumulative
 *       mass first exceeds u·(nucleus mass), i.e. p renormalised over the nucleus.</li>
 * </ul>
 * Deterministic: a new sampler with the same seed, fed the same logits, returns the same ids. Not thread-safe.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    public SamplingParams params() {
        return params;
    }

    /** The next token id for these logits [V]. */
    public int next(float[] logits) {
        checkFinite(logits);
        if (params.greedy()) {
            return argmax(logits);
        }
        double[] p = probabilities(logits, params.temperature());
        int[] kept = nucleus(p, params.topP());
        double mass = 0;
        for (int id : kept) {
            mass += p[id];
        }
        double u = random.nextDouble() * mass;
        double cum = 0;
        for (int id : kept) {
            cum += p[id];
            if (u < cum) {
                return id;
            }
        }
        return kept[kept.length - 1];   // u rounded up to the total mass
    }

    /** Index of the largest logit, lowest index on ties. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** softmax(logits / temperature) in double, temperature &gt; 0. */
    public static double[] probabilities(float[] logits, double temperature) {
        if (!(temperature > 0.0)) {
            throw new IllegalArgumentException("temperature must be > 0 for probabilities, got " + temperature);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /**
     * The top-p nucleus of distribution {@code p}: ids by descending probability (ties: lower id first), cut after
     * the first id at which the cumulative mass reaches {@code topP}; all ids when {@code topP = 1}. Never empty.
     */
    public static int[] nucleus(double[] p, double topP) {
        Integer[] order = new Integer[p.length];
        for (int i = 0; i < p.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        if (topP >= 1.0) {
            return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
        }
        double cum = 0;
        int count = 0;
        while (count < order.length && cum < topP) {
            cum += p[order[count]];
            count++;
        }
        int[] kept = new int[count];
        for (int i = 0; i < count; i++) {
            kept[i] = order[i];
        }
        return kept;
    }

    private static void checkFinite(float[] logits) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("empty logits");
        }
        for (int i = 0; i < logits.length; i++) {
            if (!Float.isFinite(logits[i])) {
                throw new IllegalStateException("logit " + i + " is " + logits[i]
                        + ": the model produced non-finite values (diverged or damaged weights?)");
            }
        }
    }
}
