package io.sparkseek.model.layer;

import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.kernel.CpuGemm;

import java.util.List;

/**
 * DeepSeek-V3 sigmoid router with group-limited top-K selection (spec §4.2; backward spec §7 "MoE output").
 *
 * <ol>
 *   <li>logits = x·gate.weightᵀ in FP32; affinities s = σ(logits);</li>
 *   <li>selection scores c = s + bias ({@code e_score_correction_bias}, not trained, starts at 0);</li>
 *   <li>experts form nGroup contiguous groups; group score = sum of the two largest c in the group (the only
 *       one if a group has a single expert); the topkGroup best groups are kept, all other experts get c = −∞;</li>
 *   <li>top-K over c (K choices per token, stored in descending order of c);</li>
 *   <li>weights from the unbiased s over the chosen set, divided by their sum if normTopkProb (no epsilon),
 *       times routedScalingFactor.</li>
 * </ol>
 * Ties (exactly equal values) go to the lower index, for groups and for experts. Selection is a constant for
 * backward; the bias gets no gradient.
 *
 * <p>Caches x by reference: the caller's buffer must stay unchanged until backward. Returned arrays are
 * buffers owned by this router, valid until its next forward/backward, possibly longer than needed.
 */
public final class Router {
    private final int hidden;
    private final int nExperts;
    private final int topK;
    private final int nGroup;
    private final int topkGroup;
    private final int groupSize;
    private final boolean normTopkProb;
    private final float routedScalingFactor;
    private final Param weight;
    private final float[] bias;

    private float[] x;          // cached input [n, H] (by reference)
    private float[] s;          // affinities σ(logits) [n, E] (logits computed in place)
    private float[] masked;     // scratch: c with excluded experts at −∞ and chosen ones at NaN [n, E]
    private float[] groupScore; // [n, G]
    private int[] groupKept;    // 1 if the group was kept [n, G]
    private int[] topIndex;     // [n, K], descending c
    private float[] topWeight;  // [n, K]
    private float[] denom;      // Σ_{S(t)} s per token [n] (1 when not normalizing)
    private float[] dl;         // dlogits [n, E]
    private float[] dx;         // [n, H]

    public Router(String prefix, int hidden, int nExperts, int topK, int nGroup, int topkGroup,
                  boolean normTopkProb, float routedScalingFactor) {
        if (hidden < 1 || nExperts < 1) {
            throw new IllegalArgumentException("router " + prefix + ": hidden and nExperts must be >= 1, got "
                    + hidden + ", " + nExperts);
        }
        if (nGroup < 1 || nExperts % nGroup != 0) {
            throw new IllegalArgumentException("router " + prefix + ": n_group = " + nGroup
                    + " must divide n_routed_experts = " + nExperts);
        }
        if (topkGroup < 1 || topkGroup > nGroup) {
            throw new IllegalArgumentException("router " + prefix + ": topk_group = " + topkGroup
                    + " must be in [1, n_group = " + nGroup + "]");
        }
        int allowed = topkGroup * (nExperts / nGroup);
        if (topK < 1 || topK > allowed) {
            throw new IllegalArgumentException("router " + prefix + ": num_experts_per_tok = " + topK
                    + " must be in [1, topk_group * n_routed_experts / n_group = " + allowed + "]");
        }
        if (!(routedScalingFactor > 0f) || Float.isInfinite(routedScalingFactor)) {
            throw new IllegalArgumentException("router " + prefix + ": routed_scaling_factor must be finite and > 0, got "
                    + routedScalingFactor);
        }
        this.hidden = hidden;
        this.nExperts = nExperts;
        this.topK = topK;
        this.nGroup = nGroup;
        this.topkGroup = topkGroup;
        this.groupSize = nExperts / nGroup;
        this.normTopkProb = normTopkProb;
        this.routedScalingFactor = routedScalingFactor;
        this.weight = new Param(prefix + ".gate.weight", nExperts, hidden);
        this.bias = new float[nExperts];
    }

    /** gate.weight [E, H]. */
    public List<Param> params() {
        return List.of(weight);
    }

    public Param weight() {
        return weight;
    }

    /** {@code e_score_correction_bias} [E], live: updated in place by the bias balancer; no gradient. */
    public float[] bias() {
        return bias;
    }

    public int nExperts() {
        return nExperts;
    }

    public int topK() {
        return topK;
    }

    /** Chosen experts of the last forward, [n, K] (token t's choices at t·K…, descending c). */
    public int[] topIndex() {
        return topIndex;
    }

    /** Gate weights of the last forward, [n, K], aligned with {@link #topIndex()}. */
    public float[] topWeight() {
        return topWeight;
    }

    /** Affinities s = σ(logits) of the last forward, [n, E]. */
    public float[] scores() {
        return s;
    }

    /** x [n, H] → routing (topIndex, topWeight [n, K]); caches x (by reference), s [n, E], Σ_S s [n]. */
    public void forward(ComputePool pool, float[] x, int n) {
        this.x = x;
        int e = nExperts;
        s = Buffers.ensure(s, n * e);
        masked = Buffers.ensure(masked, n * e);
        groupScore = Buffers.ensure(groupScore, n * nGroup);
        groupKept = Buffers.ensure(groupKept, n * nGroup);
        topIndex = Buffers.ensure(topIndex, n * topK);
        topWeight = Buffers.ensure(topWeight, n * topK);
        denom = Buffers.ensure(denom, n);
        CpuGemm.nt(pool, n, e, hidden, x, 0, hidden, weight.w(), 0, hidden, s, 0, e, false);
        pool.parallelFor(n, 1, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                route(t);
            }
        });
    }

    // One token: s (in place from logits), group selection, top-K, weights.
    private void route(int t) {
        int e0 = t * nExperts;
        int g0 = t * nGroup;
        int k0 = t * topK;
        for (int i = 0; i < nExperts; i++) {
            float si = SwiGluMlp.sigmoid(s[e0 + i]);
            s[e0 + i] = si;
            masked[e0 + i] = si + bias[i];
        }
        for (int g = 0; g < nGroup; g++) {
            float m1 = Float.NEGATIVE_INFINITY;
            float m2 = Float.NEGATIVE_INFINITY;
            for (int i = e0 + g * groupSize, end = i + groupSize; i < end; i++) {
                float v = masked[i];
                if (v > m1) {
                    m2 = m1;
                    m1 = v;
                } else if (v > m2) {
                    m2 = v;
                }
            }
            groupScore[g0 + g] = groupSize == 1 ? m1 : m1 + m2;
            groupKept[g0 + g] = 0;
        }
        for (int r = 0; r < topkGroup; r++) {
            int best = -1;
            for (int g = 0; g < nGroup; g++) {
                if (groupKept[g0 + g] == 0 && (best < 0 || groupScore[g0 + g] > groupScore[g0 + best])) {
                    best = g;
                }
            }
            groupKept[g0 + best] = 1;
        }
        for (int g = 0; g < nGroup; g++) {
            if (groupKept[g0 + g] == 0) {
                java.util.Arrays.fill(masked, e0 + g * groupSize, e0 + (g + 1) * groupSize, Float.NEGATIVE_INFINITY);
            }
        }
        float sum = 0f;
        for (int k = 0; k < topK; k++) {
            int best = -1;
            float bestV = 0f;
            for (int i = 0; i < nExperts; i++) {
                float v = masked[e0 + i];
                if (Float.isNaN(v)) {
                    continue;   // already chosen
                }
                if (best < 0 || v > bestV) {
                    best = i;
                    bestV = v;
                }
            }
            if (best < 0) {
                throw new IllegalStateException("router: no expert left for token " + t
                        + " (non-finite affinities; did training diverge?)");
            }
            masked[e0 + best] = Float.NaN;
            topIndex[k0 + k] = best;
            sum += s[e0 + best];
        }
        float d = normTopkProb ? sum : 1f;
        denom[t] = d;
        for (int k = 0; k < topK; k++) {
            float sk = s[e0 + topIndex[k0 + k]];
            topWeight[k0 + k] = (normTopkProb ? sk / d : sk) * routedScalingFactor;
        }
    }

    /** Same as {@link #backward(ComputePool, float[], float[], int)} without an extra gradient on s. */
    public float[] backward(ComputePool pool, float[] dTopWeight, int n) {
        return backward(pool, dTopWeight, null, n);
    }

    /**
     * dTopWeight [n, K] (+ optional dScores [n, E], an extra ∂L/∂s such as the balance loss's) → dx [n, H];
     * gate.weight.g += dlogitsᵀ·x. Uses the forward's x, s, selection and Σ_S s; selection is constant.
     */
    public float[] backward(ComputePool pool, float[] dTopWeight, float[] dScores, int n) {
        int e = nExperts;
        dl = Buffers.ensure(dl, n * e);
        dx = Buffers.ensure(dx, n * hidden);
        float[] dl = this.dl;
        float rho = routedScalingFactor;
        pool.parallelFor(n, 1, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int e0 = t * e;
                int k0 = t * topK;
                if (dScores != null) {
                    System.arraycopy(dScores, e0, dl, e0, e);
                } else {
                    java.util.Arrays.fill(dl, e0, e0 + e, 0f);
                }
                if (normTopkProb) {
                    // ds_k = (ρ/Σ)(a_k − Σ_i n_i a_i), n_i = s_i/Σ
                    float d = denom[t];
                    float dot = 0f;
                    for (int k = 0; k < topK; k++) {
                        dot += s[e0 + topIndex[k0 + k]] / d * dTopWeight[k0 + k];
                    }
                    float scale = rho / d;
                    for (int k = 0; k < topK; k++) {
                        dl[e0 + topIndex[k0 + k]] += scale * (dTopWeight[k0 + k] - dot);
                    }
                } else {
                    for (int k = 0; k < topK; k++) {
                        dl[e0 + topIndex[k0 + k]] += rho * dTopWeight[k0 + k];
                    }
                }
                for (int i = e0; i < e0 + e; i++) {
                    dl[i] *= s[i] * (1f - s[i]);
                }
            }
        });
        CpuGemm.tn(pool, e, hidden, n, dl, 0, e, x, 0, hidden, weight.g(), 0, hidden, true);
        CpuGemm.nn(pool, n, hidden, e, dl, 0, e, weight.w(), 0, hidden, dx, 0, hidden, false);
        return dx;
    }
}
