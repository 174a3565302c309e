package io.sparkseek.model.reference;

import io.sparkseek.model.config.ModelConfig;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An independent, double-precision forward of the whole DeepSeek-V3 decoder, written straight from
 * {@code shared/spec/deepseek-v3.md} (§2 skeleton, §3 MLA with interleaved-pair RoPE and scale (dn+dr)^-1/2,
 * no YaRN, §4.2 routing, §6.2 sequence-wise balance loss, §9.2 tensor names) and NOT from the production layer
 * code. It is the oracle of the finite-difference gradient checks ({@link GradCheck}), so it is plain scalar
 * loops, one method per spec step, and speed does not matter.
 *
 * <p>Activations are {@code double[tokens][width]}; token {@code n = b·T + t} is position t of batch row b.
 * Weights are flat row-major {@code [out, in]} arrays keyed by HF name (§0.1: {@code y = x · Wᵀ}).
 */
public final class ReferenceModel {

    /** Epsilon of {@code q_a_layernorm} / {@code kv_a_layernorm}: HF builds them without the config eps (§1.4). */
    public static final double LATENT_NORM_EPS = 1e-6;

    /** The configuration numbers the reference needs, in spec notation (§0.1). {@code rq == 0}: no query LoRA. */
    public record Dims(int vocab, int hidden, int layers, int firstKDense, int heads, int rq, int rkv, int dn, int dr,
                       int dv, int intermediate, int moeIntermediate, int experts, int topK, int groups, int topkGroups,
                       int nShared, double routedScaling, boolean normTopkProb, double ropeTheta, double rmsNormEps) {

        public Dims {
            require(experts % groups == 0, "n_routed_experts % n_group must be 0, got " + experts + " % " + groups);
            require(experts / groups >= 2, "each group needs >= 2 experts (top-2 group score), got " + experts / groups);
            require(topK <= topkGroups * (experts / groups),
                    "num_experts_per_tok " + topK + " > topk_group × experts per group " + topkGroups * (experts / groups));
            require(dr % 2 == 0, "qk_rope_head_dim must be even (RoPE pairs), got " + dr);
            require(rq >= 0, "q_lora_rank must be >= 0 (0 = none), got " + rq);
        }

        public static Dims of(ModelConfig c) {
            Integer q = c.qLoraRank();
            return new Dims(c.vocabSize(), c.hiddenSize(), c.numHiddenLayers(), c.firstKDenseReplace(),
                    c.numAttentionHeads(), q == null ? 0 : q, c.kvLoraRank(), c.qkNopeHeadDim(), c.qkRopeHeadDim(),
                    c.vHeadDim(), c.intermediateSize(), c.moeIntermediateSize(), c.nRoutedExperts(),
                    c.numExpertsPerTok(), c.nGroup(), c.topkGroup(), c.nSharedExperts(), c.routedScalingFactor(),
                    c.normTopkProb(), c.ropeTheta(), c.rmsNormEps());
        }

        int dq() {
            return dn + dr;
        }

        boolean isMoe(int layer) {
            return layer >= firstKDense;
        }
    }

    /**
     * Output of {@link #forward}. {@code balanceLoss} already includes α; {@code loss = ceLoss + balanceLoss}.
     * Per MoE layer ({@code "model.layers.L.mlp"}): {@code selections} int[n·K] (token t's K experts in descending
     * biased score c, or in the given order when the selection was fixed) and {@code counts} int[E].
     * {@code logits} is [n][V], kept for structural tests (causality, per-row positions).
     */
    public record Result(double loss, double ceLoss, double balanceLoss, Map<String, int[]> selections,
                         Map<String, int[]> counts, double[][] logits) {
    }

    private final Dims d;
    private final Map<String, double[]> w;

    public ReferenceModel(ModelConfig cfg, Map<String, double[]> tensors) {
        this(Dims.of(cfg), tensors);
    }

    /** Keeps a reference to {@code tensors} (not a copy): the gradient check perturbs them in place. */
    public ReferenceModel(Dims dims, Map<String, double[]> tensors) {
        this.d = dims;
        this.w = tensors;
        for (Map.Entry<String, int[]> e : tensorShapes(dims).entrySet()) {
            double[] t = tensors.get(e.getKey());
            require(t != null, "missing tensor " + e.getKey());
            int size = Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
            require(t.length == size, e.getKey() + " has " + t.length + " values, expected shape "
                    + Arrays.toString(e.getValue()));
        }
    }

    public Dims dims() {
        return d;
    }

    /** Every tensor the model reads, HF name → shape, in checkpoint order (spec §9.2), router biases included. */
    public static Map<String, int[]> tensorShapes(Dims d) {
        Map<String, int[]> s = new LinkedHashMap<>();
        int h = d.hidden();
        s.put("model.embed_tokens.weight", new int[] {d.vocab(), h});
        for (int l = 0; l < d.layers(); l++) {
            String p = "model.layers." + l + ".";
            s.put(p + "input_layernorm.weight", new int[] {h});
            if (d.rq() > 0) {
                s.put(p + "self_attn.q_a_proj.weight", new int[] {d.rq(), h});
                s.put(p + "self_attn.q_a_layernorm.weight", new int[] {d.rq()});
                s.put(p + "self_attn.q_b_proj.weight", new int[] {d.heads() * d.dq(), d.rq()});
            } else {
                s.put(p + "self_attn.q_proj.weight", new int[] {d.heads() * d.dq(), h});
            }
            s.put(p + "self_attn.kv_a_proj_with_mqa.weight", new int[] {d.rkv() + d.dr(), h});
            s.put(p + "self_attn.kv_a_layernorm.weight", new int[] {d.rkv()});
            s.put(p + "self_attn.kv_b_proj.weight", new int[] {d.heads() * (d.dn() + d.dv()), d.rkv()});
            s.put(p + "self_attn.o_proj.weight", new int[] {h, d.heads() * d.dv()});
            s.put(p + "post_attention_layernorm.weight", new int[] {h});
            if (!d.isMoe(l)) {
                s.put(p + "mlp.gate_proj.weight", new int[] {d.intermediate(), h});
                s.put(p + "mlp.up_proj.weight", new int[] {d.intermediate(), h});
                s.put(p + "mlp.down_proj.weight", new int[] {h, d.intermediate()});
            } else {
                s.put(p + "mlp.gate.weight", new int[] {d.experts(), h});
                s.put(p + "mlp.gate.e_score_correction_bias", new int[] {d.experts()});
                for (int j = 0; j < d.experts(); j++) {
                    s.put(p + "mlp.experts." + j + ".gate_proj.weight", new int[] {d.moeIntermediate(), h});
                    s.put(p + "mlp.experts." + j + ".up_proj.weight", new int[] {d.moeIntermediate(), h});
                    s.put(p + "mlp.experts." + j + ".down_proj.weight", new int[] {h, d.moeIntermediate()});
                }
                int sh = d.nShared() * d.moeIntermediate();
                s.put(p + "mlp.shared_experts.gate_proj.weight", new int[] {sh, h});
                s.put(p + "mlp.shared_experts.up_proj.weight", new int[] {sh, h});
                s.put(p + "mlp.shared_experts.down_proj.weight", new int[] {h, sh});
            }
        }
        s.put("model.norm.weight", new int[] {h});
        s.put("lm_head.weight", new int[] {d.vocab(), h});
        return s;
    }

    // ------------------------------------------------------------------------------------------------ model

    /**
     * Spec §2. rows: [batch, seqLen+1] token ids; inputs are the first seqLen, targets the last seqLen of each
     * row. RoPE positions restart at 0 in every row and attention is causal within a row. Loss = mean CE over
     * batch·seqLen positions + (α > 0 ? Σ_MoE-layers mean_sequences L_Bal (§6.2) : 0).
     * fixedSelection (nullable): "model.layers.L.mlp" → int[n·K] expert indices used instead of routing.
     */
    public Result forward(int[] rows, int batch, int seqLen, double balanceAlpha, Map<String, int[]> fixedSelection) {
        require(rows.length == batch * (seqLen + 1),
                "rows has " + rows.length + " ids, expected batch·(seqLen+1) = " + batch * (seqLen + 1));
        int n = batch * seqLen;
        int[] inputs = new int[n];
        int[] targets = new int[n];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seqLen; t++) {
                inputs[b * seqLen + t] = rows[b * (seqLen + 1) + t];
                targets[b * seqLen + t] = rows[b * (seqLen + 1) + t + 1];
            }
        }
        Map<String, int[]> selections = new LinkedHashMap<>();
        Map<String, int[]> counts = new LinkedHashMap<>();
        double balance = 0;

        double[][] h = embed(inputs);
        for (int l = 0; l < d.layers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] a = rmsNorm(h, w(p + "input_layernorm.weight"), d.rmsNormEps());
            addInPlace(h, mla(a, p + "self_attn.", seqLen));
            double[][] u = rmsNorm(h, w(p + "post_attention_layernorm.weight"), d.rmsNormEps());
            if (!d.isMoe(l)) {
                addInPlace(h, swiglu(u, w(p + "mlp.gate_proj.weight"), w(p + "mlp.up_proj.weight"),
                        w(p + "mlp.down_proj.weight"), d.intermediate()));
            } else {
                String key = p + "mlp";
                int[] fixed = fixedSelection == null ? null : fixedSelection.get(key);
                MoeOut m = moe(u, p + "mlp.", fixed);
                addInPlace(h, m.y);
                selections.put(key, m.selection);
                counts.put(key, countSelections(m.selection, d.experts()));
                if (balanceAlpha > 0) {
                    balance += batchBalanceLoss(m.affinities, m.selection, batch, seqLen, balanceAlpha);
                }
            }
        }
        double[][] z = rmsNorm(h, w("model.norm.weight"), d.rmsNormEps());
        double[][] logits = linear(z, w("lm_head.weight"), d.vocab(), d.hidden());
        double ce = crossEntropy(logits, targets);
        return new Result(ce + balance, ce, balance, selections, counts, logits);
    }

    /** §2.1: plain lookup, no √H scaling. [n] ids → [n][H]. */
    double[][] embed(int[] ids) {
        double[] e = w("model.embed_tokens.weight");
        double[][] h = new double[ids.length][d.hidden()];
        for (int n = 0; n < ids.length; n++) {
            require(ids[n] >= 0 && ids[n] < d.vocab(), "token id " + ids[n] + " outside [0, " + d.vocab() + ")");
            for (int j = 0; j < d.hidden(); j++) {
                h[n][j] = e[ids[n] * d.hidden() + j];
            }
        }
        return h;
    }

    // -------------------------------------------------------------------------------------------- MLA (§3)

    /** §3.2 for all tokens: x [n][H] (output of input_layernorm) → attention output [n][H]. */
    double[][] mla(double[][] x, String p, int seqLen) {
        int n = x.length;
        int nh = d.heads();
        int dq = d.dq();
        int dn = d.dn();
        int dr = d.dr();
        int dv = d.dv();
        // 1. Query path: [n][nh·dq], head h occupies [h·dq, (h+1)·dq), nope first then rope.
        double[][] q;
        if (d.rq() > 0) {
            double[][] cQ = linear(x, w(p + "q_a_proj.weight"), d.rq(), d.hidden());
            double[][] cQn = rmsNorm(cQ, w(p + "q_a_layernorm.weight"), LATENT_NORM_EPS);
            q = linear(cQn, w(p + "q_b_proj.weight"), nh * dq, d.rq());
        } else {
            q = linear(x, w(p + "q_proj.weight"), nh * dq, d.hidden());
        }
        // 2. KV path: first rkv columns = cKV (normalized), last dr = shared k_pe (not normalized).
        double[][] kv = linear(x, w(p + "kv_a_proj_with_mqa.weight"), d.rkv() + dr, d.hidden());
        double[][] cKV = new double[n][d.rkv()];
        double[][] kPe = new double[n][dr];
        for (int i = 0; i < n; i++) {
            System.arraycopy(kv[i], 0, cKV[i], 0, d.rkv());
            System.arraycopy(kv[i], d.rkv(), kPe[i], 0, dr);
        }
        double[][] cKVn = rmsNorm(cKV, w(p + "kv_a_layernorm.weight"), LATENT_NORM_EPS);
        double[][] kvb = linear(cKVn, w(p + "kv_b_proj.weight"), nh * (dn + dv), d.rkv()); // head h: [k_nope | v]
        // 3. RoPE on q_pe of every head and on the shared k_pe, position = index within the row.
        for (int i = 0; i < n; i++) {
            int pos = i % seqLen;
            for (int hd = 0; hd < nh; hd++) {
                rope(q[i], hd * dq + dn, dr, pos, d.ropeTheta());
            }
            rope(kPe[i], 0, dr, pos, d.ropeTheta());
        }
        // 4.–6. Per row, per head: causal softmax attention, heads concatenated in head order.
        double scale = 1.0 / Math.sqrt(dq);
        double[][] o = new double[n][nh * dv];
        int batch = n / seqLen;
        for (int b = 0; b < batch; b++) {
            for (int hd = 0; hd < nh; hd++) {
                for (int t = 0; t < seqLen; t++) {
                    int i = b * seqLen + t;
                    double[] scores = new double[t + 1]; // j > t masked (−∞ → probability 0): not computed
                    for (int j = 0; j <= t; j++) {
                        int m = b * seqLen + j;
                        double dot = 0;
                        for (int c = 0; c < dn; c++) {
                            dot += q[i][hd * dq + c] * kvb[m][hd * (dn + dv) + c];
                        }
                        for (int c = 0; c < dr; c++) {
                            dot += q[i][hd * dq + dn + c] * kPe[m][c];
                        }
                        scores[j] = scale * dot;
                    }
                    double[] prob = softmax(scores);
                    for (int j = 0; j <= t; j++) {
                        int m = b * seqLen + j;
                        for (int c = 0; c < dv; c++) {
                            o[i][hd * dv + c] += prob[j] * kvb[m][hd * (dn + dv) + dn + c];
                        }
                    }
                }
            }
        }
        return linear(o, w(p + "o_proj.weight"), d.hidden(), nh * dv);
    }

    /**
     * §3.3 official convention: the dr-long slice v[off, off+dr) is dr/2 adjacent pairs (v[2i], v[2i+1]), pair i
     * rotated by pos·θ_i with θ_i = theta^(−2i/dr): a' = a·cos − b·sin, b' = a·sin + b·cos. In place.
     */
    static void rope(double[] v, int off, int dr, int pos, double theta) {
        for (int i = 0; i < dr / 2; i++) {
            double angle = pos * Math.pow(theta, -2.0 * i / dr);
            double cos = Math.cos(angle);
            double sin = Math.sin(angle);
            double a = v[off + 2 * i];
            double b = v[off + 2 * i + 1];
            v[off + 2 * i] = a * cos - b * sin;
            v[off + 2 * i + 1] = a * sin + b * cos;
        }
    }

    // ------------------------------------------------------------------------------------------- MoE (§4)

    /** Output of {@link #moe}: y [n][H], the selection int[n·K], and the sigmoid affinities s [n][E]. */
    record MoeOut(double[][] y, int[] selection, double[][] affinities) {
    }

    /** §4.2 for all tokens: u [n][H] (output of post_attention_layernorm). {@code fixed}: int[n·K] or null. */
    MoeOut moe(double[][] u, String p, int[] fixed) {
        int n = u.length;
        int e = d.experts();
        int k = d.topK();
        require(fixed == null || fixed.length == n * k,
                p + " fixed selection has " + (fixed == null ? 0 : fixed.length) + " entries, expected n·K = " + n * k);
        double[][] logits = linear(u, w(p + "gate.weight"), e, d.hidden());        // step 1
        double[] bias = w(p + "gate.e_score_correction_bias");
        int sh = d.nShared() * d.moeIntermediate();
        double[][] y = swiglu(u, w(p + "shared_experts.gate_proj.weight"), w(p + "shared_experts.up_proj.weight"),
                w(p + "shared_experts.down_proj.weight"), sh);                    // shared expert, always on
        double[][] s = new double[n][];
        int[] selection = new int[n * k];
        for (int t = 0; t < n; t++) {
            s[t] = sigmoid(logits[t]);                                              // step 2
            int[] chosen;
            if (fixed != null) {
                chosen = Arrays.copyOfRange(fixed, t * k, t * k + k);
            } else {
                double[] c = new double[e];                                         // step 3
                for (int i = 0; i < e; i++) {
                    c[i] = s[t][i] + bias[i];
                }
                chosen = selectExperts(c, d.groups(), d.topkGroups(), k);           // steps 4–5
            }
            System.arraycopy(chosen, 0, selection, t * k, k);
            double[] g = gateWeights(s[t], chosen, d.normTopkProb(), d.routedScaling()); // step 6
            for (int r = 0; r < k; r++) {                                           // step 7
                String ep = p + "experts." + chosen[r] + ".";
                double[] out = swiglu1(u[t], w(ep + "gate_proj.weight"), w(ep + "up_proj.weight"),
                        w(ep + "down_proj.weight"), d.moeIntermediate());
                for (int j = 0; j < d.hidden(); j++) {
                    y[t][j] += g[r] * out[j];
                }
            }
        }
        return new MoeOut(y, selection, s);
    }

    /**
     * §4.2 steps 4–5 on the biased scores c [E]: group score = sum of the two largest c in each of the G
     * contiguous groups; keep the Gk best groups; mask the rest with −∞; take the top K. Ties: lower index wins
     * (for groups and experts). Returns the K expert indices in descending c order.
     */
    static int[] selectExperts(double[] c, int groups, int topkGroups, int k) {
        int e = c.length;
        int per = e / groups;
        double[] groupScore = new double[groups];
        for (int g = 0; g < groups; g++) {
            int[] top2 = topIndices(Arrays.copyOfRange(c, g * per, (g + 1) * per), 2);
            groupScore[g] = c[g * per + top2[0]] + c[g * per + top2[1]];
        }
        int[] keptGroups = topIndices(groupScore, topkGroups);
        double[] masked = new double[e];
        Arrays.fill(masked, Double.NEGATIVE_INFINITY);
        for (int g : keptGroups) {
            for (int i = g * per; i < (g + 1) * per; i++) {
                masked[i] = c[i];
            }
        }
        return topIndices(masked, k);
    }

    /** Indices of the k largest values, descending; equal values: lower index first. */
    static int[] topIndices(double[] v, int k) {
        boolean[] taken = new boolean[v.length];
        int[] out = new int[k];
        for (int r = 0; r < k; r++) {
            int best = -1;
            for (int i = 0; i < v.length; i++) {
                if (!taken[i] && (best < 0 || v[i] > v[best])) {
                    best = i;
                }
            }
            taken[best] = true;
            out[r] = best;
        }
        return out;
    }

    /** §4.2 step 6: g_i = s_i (/ Σ_{j∈S} s_j if normTopkProb) × routed_scaling_factor, for i in {@code chosen}. */
    static double[] gateWeights(double[] s, int[] chosen, boolean normTopkProb, double routedScaling) {
        double sum = 0;
        for (int i : chosen) {
            sum += s[i];
        }
        double[] g = new double[chosen.length];
        for (int r = 0; r < chosen.length; r++) {
            g[r] = (normTopkProb ? s[chosen[r]] / sum : s[chosen[r]]) * routedScaling;
        }
        return g;
    }

    static int[] countSelections(int[] selection, int experts) {
        int[] counts = new int[experts];
        for (int i : selection) {
            counts[i]++;
        }
        return counts;
    }

    // ------------------------------------------------------------------------------- balance loss (§6.2)

    /** Mean over the batch's sequences of {@link #sequenceBalanceLoss}; s [n][E], selection int[n·K]. */
    static double batchBalanceLoss(double[][] s, int[] selection, int batch, int seqLen, double alpha) {
        int k = selection.length / s.length;
        double total = 0;
        for (int b = 0; b < batch; b++) {
            double[][] sSeq = Arrays.copyOfRange(s, b * seqLen, (b + 1) * seqLen);
            int[] selSeq = Arrays.copyOfRange(selection, b * seqLen * k, (b + 1) * seqLen * k);
            total += sequenceBalanceLoss(sSeq, selSeq, k, alpha);
        }
        return total / batch;
    }

    /**
     * §6.2 for one sequence of T tokens: f_i = E/(K·T)·#{t : i selected at t} (from the actual selection),
     * s'_{i,t} = s_{i,t}/Σ_j s_{j,t}, P_i = (1/T)Σ_t s'_{i,t}, L_Bal = α·Σ_i f_i·P_i.
     */
    static double sequenceBalanceLoss(double[][] s, int[] selection, int k, double alpha) {
        int seqLen = s.length;
        int e = s[0].length;
        double[] f = new double[e];
        for (int i : selection) {
            f[i] += (double) e / (k * seqLen);
        }
        double[] p = new double[e];
        for (int t = 0; t < seqLen; t++) {
            double sum = 0;
            for (int j = 0; j < e; j++) {
                sum += s[t][j];
            }
            for (int i = 0; i < e; i++) {
                p[i] += s[t][i] / sum / seqLen;
            }
        }
        double loss = 0;
        for (int i = 0; i < e; i++) {
            loss += f[i] * p[i];
        }
        return alpha * loss;
    }

    // ------------------------------------------------------------------------------------ building blocks

    /** §0.1: y = x · Wᵀ; x [n][in], W [out, in] row-major → [n][out]. */
    static double[][] linear(double[][] x, double[] wt, int out, int in) {
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            y[i] = linear1(x[i], wt, out, in);
        }
        return y;
    }

    static double[] linear1(double[] x, double[] wt, int out, int in) {
        require(x.length == in && wt.length == out * in, "linear: x has " + x.length + ", W has " + wt.length
                + " values for [" + out + ", " + in + "]");
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double acc = 0;
            for (int j = 0; j < in; j++) {
                acc += x[j] * wt[o * in + j];
            }
            y[o] = acc;
        }
        return y;
    }

    /** §2 RMSNorm: y = w ⊙ x · (mean_j x_j² + eps)^(−1/2), per token. */
    static double[][] rmsNorm(double[][] x, double[] weight, double eps) {
        double[][] y = new double[x.length][weight.length];
        for (int i = 0; i < x.length; i++) {
            double ms = 0;
            for (double v : x[i]) {
                ms += v * v;
            }
            double r = 1.0 / Math.sqrt(ms / x[i].length + eps);
            for (int j = 0; j < weight.length; j++) {
                y[i][j] = weight[j] * x[i][j] * r;
            }
        }
        return y;
    }

    /** §2 SwiGLU MLP: down( SiLU(gate·x) ⊙ up·x ); x [n][H] → [n][H], inner width {@code inner}. */
    double[][] swiglu(double[][] x, double[] gate, double[] up, double[] down, int inner) {
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            y[i] = swiglu1(x[i], gate, up, down, inner);
        }
        return y;
    }

    double[] swiglu1(double[] x, double[] gate, double[] up, double[] down, int inner) {
        double[] a = linear1(x, gate, inner, d.hidden());
        double[] b = linear1(x, up, inner, d.hidden());
        double[] hmid = new double[inner];
        for (int j = 0; j < inner; j++) {
            hmid[j] = silu(a[j]) * b[j];
        }
        return linear1(hmid, down, d.hidden(), inner);
    }

    static double silu(double a) {
        return a / (1 + Math.exp(-a));
    }

    static double[] sigmoid(double[] v) {
        double[] s = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            s[i] = 1 / (1 + Math.exp(-v[i]));
        }
        return s;
    }

    /** Numerically stable softmax (max subtracted). */
    static double[] softmax(double[] v) {
        double max = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            max = Math.max(max, x);
        }
        double sum = 0;
        double[] p = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            p[i] = Math.exp(v[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < v.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** §2.4: mean over positions of −log softmax(logits)[target]. */
    static double crossEntropy(double[][] logits, int[] targets) {
        double total = 0;
        for (int i = 0; i < logits.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double z : logits[i]) {
                max = Math.max(max, z);
            }
            double sum = 0;
            for (double z : logits[i]) {
                sum += Math.exp(z - max);
            }
            total += max + Math.log(sum) - logits[i][targets[i]];
        }
        return total / logits.length;
    }

    private static void addInPlace(double[][] h, double[][] delta) {
        for (int i = 0; i < h.length; i++) {
            for (int j = 0; j < h[i].length; j++) {
                h[i][j] += delta[i][j];
            }
        }
    }

    private double[] w(String name) {
        double[] t = w.get(name);
        require(t != null, "missing tensor " + name);
        return t;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
