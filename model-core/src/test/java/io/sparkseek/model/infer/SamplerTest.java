package io.sparkseek.model.infer;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link Sampler} against brute-force definitions on fixed logits. */
class SamplerTest {

    /** Id i is in the nucleus iff the mass of the ids ranked before it (higher p, or equal p, lower id) is < top-p. */
    static Set<Integer> bruteForceNucleus(double[] p, double topP) {
        Set<Integer> s = new HashSet<>();
        for (int i = 0; i < p.length; i++) {
            double before = 0;
            for (int j = 0; j < p.length; j++) {
                if (p[j] > p[i] || (p[j] == p[i] && j < i)) {
                    before += p[j];
                }
            }
            if (before < topP || topP >= 1.0) {
                s.add(i);
            }
        }
        return s;
    }

    static float[] randomLogits(Random rnd, int vocab) {
        float[] l = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            // few distinct values, so ties occur
            l[i] = rnd.nextInt(4) == 0 ? 1.5f : (float) Math.round(rnd.nextGaussian() * 4) / 2f;
        }
        return l;
    }

    @Test
    void probabilitiesAreTheTemperedSoftmax() {
        float[] logits = {1f, 2f, -1f, 0.5f};
        double t = 0.7;
        double[] p = Sampler.probabilities(logits, t);
        double z = 0;
        for (float v : logits) {
            z += Math.exp(v / t);
        }
        for (int i = 0; i < logits.length; i++) {
            assertThat(p[i]).isCloseTo(Math.exp(logits[i] / t) / z, org.assertj.core.data.Offset.offset(1e-15));
        }
    }

    @Test
    void nucleusEqualsBruteForceSet() {
        Random rnd = new Random(3);
        double[] tops = {0.05, 0.3, 0.5, 0.8, 0.9, 0.95, 0.999, 1.0};
        for (int trial = 0; trial < 200; trial++) {
            float[] logits = randomLogits(rnd, 1 + rnd.nextInt(40));
            double[] p = Sampler.probabilities(logits, 0.3 + rnd.nextDouble() * 1.5);
            for (double top : tops) {
                int[] kept = Sampler.nucleus(p, top);
                Set<Integer> got = new HashSet<>();
                Arrays.stream(kept).forEach(got::add);
                assertThat(got).as("trial %d, top-p %s, p %s", trial, top, Arrays.toString(p))
                        .isEqualTo(bruteForceNucleus(p, top));
                assertThat(kept).as("no duplicates").hasSize(got.size()).isNotEmpty();
                for (int i = 1; i < kept.length; i++) {
                    assertThat(p[kept[i - 1]]).as("descending p").isGreaterThanOrEqualTo(p[kept[i]]);
                }
            }
        }
    }

    /**
     * Empirical frequencies over N seeds (a fresh sampler per seed, first draw) and over N draws of one sampler match
     * p renormalised over the nucleus within 5 standard deviations; ids outside the nucleus never appear.
     */
    @Test
    void frequenciesMatchRenormalisedNucleusProbabilities() {
        float[] logits = {2.0f, 1.2f, 1.2f, 0.4f, -0.5f, -1.0f, 0.9f, -3.0f};
        double temperature = 0.8;
        double topP = 0.85;
        double[] p = Sampler.probabilities(logits, temperature);
        Set<Integer> nucleus = bruteForceNucleus(p, topP);
        double mass = nucleus.stream().mapToDouble(i -> p[i]).sum();
        assertThat(nucleus.size()).as("the cut keeps several ids and drops some").isBetween(2, logits.length - 1);
        int n = 40_000;
        int[] perSeed = new int[logits.length];
        int[] oneStream = new int[logits.length];
        Sampler stream = new Sampler(new SamplingParams(temperature, topP, 99));
        for (int s = 0; s < n; s++) {
            perSeed[new Sampler(new SamplingParams(temperature, topP, s)).next(logits)]++;
            oneStream[stream.next(logits)]++;
        }
        for (int[] counts : new int[][] {perSeed, oneStream}) {
            for (int i = 0; i < logits.length; i++) {
                double q = nucleus.contains(i) ? p[i] / mass : 0.0;
                double f = (double) counts[i] / n;
                double bound = 5 * Math.sqrt(q * (1 - q) / n);
                assertThat(Math.abs(f - q)).as("id %d: frequency %.4f, expected %.4f", i, f, q)
                        .isLessThanOrEqualTo(bound);
            }
        }
    }

    @Test
    void temperatureOneTopPOneSamplesTheFullSoftmax() {
        float[] logits = {0f, 1f, 2f, -1f};
        double[] p = Sampler.probabilities(logits, 1.0);
        int n = 40_000;
        int[] counts = new int[logits.length];
        Sampler s = new Sampler(new SamplingParams(1.0, 1.0, 5));
        for (int i = 0; i < n; i++) {
            counts[s.next(logits)]++;
        }
        for (int i = 0; i < logits.length; i++) {
            double f = (double) counts[i] / n;
            assertThat(Math.abs(f - p[i])).as("id %d", i).isLessThanOrEqualTo(5 * Math.sqrt(p[i] * (1 - p[i]) / n));
        }
    }

    @Test
    void sameSeedSameTokensOtherSeedOtherTokens() {
        Random rnd = new Random(8);
        float[][] steps = new float[200][];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = randomLogits(rnd, 30);
        }
        SamplingParams a = new SamplingParams(1.0, 0.95, 42);
        int[] first = draw(new Sampler(a), steps);
        assertThat(draw(new Sampler(a), steps)).isEqualTo(first);
        assertThat(draw(new Sampler(new SamplingParams(1.0, 0.95, 43)), steps)).isNotEqualTo(first);
    }

    private static int[] draw(Sampler s, float[][] steps) {
        return Arrays.stream(steps).mapToInt(s::next).toArray();
    }

    @Test
    void greedyIsTheArgmaxWithTheLowestIdOnTies() {
        Sampler g = new Sampler(SamplingParams.GREEDY);
        assertThat(g.next(new float[] {0f, 3f, 1f, 3f})).isEqualTo(1);
        assertThat(g.next(new float[] {-5f})).isEqualTo(0);
        assertThat(new Sampler(new SamplingParams(0.0, 0.5, 7)).next(new float[] {1f, 2f, 0f})).isEqualTo(1);
        assertThat(Sampler.nucleus(new double[] {0.5, 0.5}, 0.5)).containsExactly(0);
        assertThat(Sampler.nucleus(new double[] {0.2, 0.8}, 0.01)).containsExactly(1);
    }

    @Test
    void rejectsBadParametersAndNonFiniteLogits() {
        assertThatThrownBy(() -> new SamplingParams(-0.1, 0.9, 0)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new SamplingParams(Double.NaN, 0.9, 0)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new SamplingParams(1, 0, 0)).hasMessageContaining("top-p");
        assertThatThrownBy(() -> new SamplingParams(1, 1.5, 0)).hasMessageContaining("top-p");
        assertThatThrownBy(() -> new Sampler(SamplingParams.GREEDY).next(new float[] {1f, Float.NaN}))
                .hasMessageContaining("non-finite");
    }
}
