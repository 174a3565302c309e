package io.sparkseek.model.reference;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * Central finite differences of a double-precision objective, compared with an analytic gradient, one tensor at a
 * time (spec §15 check 6).
 *
 * <p>For a tensor of ≤ {@value #CHECK_ALL_MAX} elements every index is checked; otherwise a seeded random sample of
 * {@value #SAMPLE} distinct indices plus the index of the largest analytic |g|. For each checked index i:
 * {@code fd_i = (L(w+h) − L(w−h)) / ((w+h) − (w−h))} (the denominator is the step actually taken after rounding).
 * The tensor's error is {@code max_i |analytic_i − fd_i| / max(max_i |fd_i|, TINY)}: relative to the tensor's
 * largest checked derivative, so entries that are legitimately ~0 do not blow it up.
 *
 * <p>Step size: {@code h = 1e-5 · max(1, |w_i|)}. The objective is evaluated in double (ε ≈ 1.1e-16) and is O(1)–O(10)
 * (a cross-entropy of ln V ≈ 4 plus a small balance term), so the rounding error of a central difference is about
 * ε·|L|/h ≈ 1e-10 and the truncation error h²·|L'''|/6 ≈ 2e-11 for O(1) third derivatives: h ≈ (3ε|L|/|L'''|)^(1/3)
 * ≈ 1e-5 balances the two. The result is ~1e-10 absolute, far below the fp32 analytic gradients' own error, so the
 * check measures the analytic side. Scaling by max(1,|w|) keeps the relative perturbation of O(1) weights (norm
 * gains) at 1e-5 as well; small weights (std 0.02–0.2) get the absolute step 1e-5.
 */
public final class GradCheck {

    /** Tensors up to this many elements are checked at every index. */
    public static final int CHECK_ALL_MAX = 64;
    /** Random indices checked in larger tensors (plus the index of the largest analytic |g|). */
    public static final int SAMPLE = 24;
    /** Relative step: h = STEP · max(1, |w|). */
    public static final double STEP = 1e-5;
    /** Floor of the relative-error denominator, so an all-zero gradient compares as an absolute error. */
    public static final double TINY = 1e-12;

    /** The loss as a function of the current contents of the weight arrays, which the check perturbs in place. */
    @FunctionalInterface
    public interface Objective {
        double loss();
    }

    /** Result for one tensor. {@code worstIndex} is the flat index with the largest |analytic − fd|. */
    public record Outcome(String tensor, double relError, double maxAbsFd, double maxAbsAnalytic, double maxAbsDiff,
                          int worstIndex, double worstAnalytic, double worstFd, int checked, int size) {

        public boolean passes(double tolerance) {
            return relError <= tolerance;
        }

        /** One readable line, e.g. for a failure list. */
        public String report() {
            return String.format(Locale.ROOT,
                    "%-58s rel %.3e  max|fd| %.3e  max|an| %.3e  max|diff| %.3e  worst[%d] an %.6e fd %.6e  (%d/%d idx)",
                    tensor, relError, maxAbsFd, maxAbsAnalytic, maxAbsDiff, worstIndex, worstAnalytic, worstFd,
                    checked, size);
        }
    }

    private final Objective objective;
    private final long seed;

    public GradCheck(Objective objective, long seed) {
        this.objective = objective;
        this.seed = seed;
    }

    /** h for a weight of value w (see class comment). */
    public static double step(double w) {
        return STEP * Math.max(1.0, Math.abs(w));
    }

    /**
     * The indices checked for a tensor: all if small, else {@value #SAMPLE} distinct seeded-random ones (the seed
     * mixes in the tensor name so tensors get different samples) plus argmax |analytic|. Sorted ascending.
     */
    public int[] indicesToCheck(String name, int size, double[] analytic) {
        if (size <= CHECK_ALL_MAX) {
            int[] all = new int[size];
            Arrays.setAll(all, i -> i);
            return all;
        }
        TreeSet<Integer> set = new TreeSet<>();
        Random rnd = new Random(seed * 31 + name.hashCode());
        while (set.size() < SAMPLE) {
            set.add(rnd.nextInt(size));
        }
        int argmax = 0;
        for (int i = 1; i < size; i++) {
            if (Math.abs(analytic[i]) > Math.abs(analytic[argmax])) {
                argmax = i;
            }
        }
        set.add(argmax);
        return set.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Central differences of {@code w} (perturbed in place and restored exactly) against {@code analytic}. */
    public Outcome check(String name, double[] w, double[] analytic) {
        if (w.length != analytic.length) {
            throw new IllegalArgumentException(name + ": " + w.length + " weights but " + analytic.length
                    + " gradient values");
        }
        int[] idx = indicesToCheck(name, w.length, analytic);
        double maxFd = 0;
        double maxAn = 0;
        double maxDiff = -1;
        int worst = -1;
        double worstAn = 0;
        double worstFd = 0;
        for (int i : idx) {
            double fd = centralDifference(w, i);
            double diff = Math.abs(analytic[i] - fd);
            maxFd = Math.max(maxFd, Math.abs(fd));
            maxAn = Math.max(maxAn, Math.abs(analytic[i]));
            if (diff > maxDiff) {
                maxDiff = diff;
                worst = i;
                worstAn = analytic[i];
                worstFd = fd;
            }
        }
        double rel = maxDiff / Math.max(maxFd, TINY);
        return new Outcome(name, rel, maxFd, maxAn, maxDiff, worst, worstAn, worstFd, idx.length, w.length);
    }

    /** dL/dw_i by a central difference; w_i is restored bit-exactly. */
    public double centralDifference(double[] w, int i) {
        double w0 = w[i];
        double h = step(w0);
        double plus = w0 + h;
        double minus = w0 - h;
        try {
            w[i] = plus;
            double lp = objective.loss();
            w[i] = minus;
            double lm = objective.loss();
            return (lp - lm) / (plus - minus);
        } finally {
            w[i] = w0;
        }
    }

    /** Checks every tensor that has an analytic gradient; returns all outcomes in the order of {@code analytic}. */
    public List<Outcome> checkEach(Map<String, double[]> weights, Map<String, double[]> analytic) {
        List<Outcome> out = new ArrayList<>();
        for (Map.Entry<String, double[]> e : analytic.entrySet()) {
            double[] w = weights.get(e.getKey());
            if (w == null) {
                throw new IllegalArgumentException("analytic gradient for " + e.getKey() + " has no weight tensor");
            }
            out.add(check(e.getKey(), w, e.getValue()));
        }
        return out;
    }

    /** The outcomes of {@link #checkEach} whose relative error exceeds {@code tolerance}. */
    public List<Outcome> failures(Map<String, double[]> weights, Map<String, double[]> analytic, double tolerance) {
        return checkEach(weights, analytic).stream().filter(o -> !o.passes(tolerance)).toList();
    }

    /** A multi-line report of outcomes, for assertion messages. */
    public static String report(List<Outcome> outcomes) {
        StringBuilder sb = new StringBuilder();
        for (Outcome o : outcomes) {
            sb.append(o.report()).append('\n');
        }
        return sb.toString();
    }
}
