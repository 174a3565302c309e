package io.sparkseek.model.layer;

import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.kernel.ComputePool;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * DeepSeekMoE layer {@code y_t = Σ_{i∈S(t)} g_{t,i}·Expert_i(x_t) + Shared(x_t)} (spec §4; backward spec §7 "MoE
 * output"), with the complementary sequence-wise balance loss of spec §6.2 when {@code balanceAlpha > 0}.
 *
 * <p>No token dropping. Each expert's tokens are gathered in increasing token order, the expert runs on the
 * gathered rows, and the results are combined per token in the order of {@link Router#topIndex()}, then the
 * shared output is added, so results are bit-identical for any thread count. Experts run as dynamic tasks
 * over the pool, largest load first; inside a task all GEMMs use a serial pool (never nested parallelism).
 *
 * <p>FP32 experts gather into, and run on, rows {@code [start_j, start_j + load_j)} of one {@link ExpertBuffers}
 * of n·K rows that all experts of the layer share (disjoint rows, so the tasks can run at once): the step loop stops
 * allocating after its first step, and the memory does not depend on how unbalanced the routing is. FP8 experts,
 * whose kernels read and write whole arrays, keep buffers of their own, grown with their load.
 *
 * <p>Balance loss: rows are B consecutive sequences of length seqLen (n = B·seqLen). Per sequence,
 * f_i = E/(K·T)·#{t : i ∈ S(t)} with S the <em>actual</em> (biased, group-limited) routing set (spec §14 q.1
 * leaves this open), s'_{i,t} = s_{i,t}/Σ_j s_{j,t}, P_i = mean_t s'_{i,t}, L = α·Σ_i f_i·P_i; the layer's
 * loss is the mean over the B sequences. Backward adds its gradient as if the total loss contains it with
 * weight 1.
 *
 * <p>Caches x by reference: the caller's buffer must stay unchanged until backward. Returned arrays are
 * buffers owned by this layer, valid until its next forward/backward.
 */
public final class MoE {
    private final MoeShape shape;
    private final float balanceAlpha;
    private final Router router;
    private final SwiGluMlp[] experts;
    private final SwiGluMlp shared;        // null when n_shared_experts = 0
    private final ComputePool serial = ComputePool.serial();

    private final int[] load;               // assignments per expert [E]
    private final int[] start;              // first gathered row of each expert in rowAssign [E + 1]
    private final int[] cursor;             // scratch [E]
    private final int[] order;              // experts by load, largest first [E]
    private final ExpertBuffers rows;       // FP32 experts: one buffer of n·K rows for all, expert j at start[j]
    // FP8 experts (their kernels take whole arrays): per-expert buffers; FP32 experts use rows instead
    private final float[][] xe;             // gathered inputs per expert [load_e, H]
    private final float[][] ye;             // expert outputs (owned by the expert) [load_e, H]
    private final float[][] dye;            // gathered g·dy per expert [load_e, H]
    private final float[][] dxe;            // expert input gradients (owned by the expert) [load_e, H]

    private int n;                          // tokens of the last forward
    private int seqLen;                     // sequence length of the last forward
    private int[] rowAssign;                // gathered row → assignment index t·K + k [n·K]
    private int[] slot;                     // assignment t·K + k → row within its expert [n·K]
    private float[] sharedOut;              // shared expert output of the last forward [n, H] (owned by it)
    private float[] y;                      // [n, H]
    private float[] dTopWeight;             // [n·K]
    private float[] dScores;                // balance-loss gradient on s [n, E]
    private float[] dx;                     // [n, H]
    private double[] balanceF;              // f_i per sequence [B, E]
    private double[] rowSum;                // Σ_j s_{j,t} [n]
    private double balanceLoss;

    /** An FP32 MoE. */
    public MoE(String prefix, MoeShape shape, float balanceAlpha) {
        this(prefix, shape, balanceAlpha, PrecisionPolicy.FP32);
    }

    /** Routed and shared experts in FP8 when the policy says so; the router gate is always FP32 (spec §8.1). */
    public MoE(String prefix, MoeShape shape, float balanceAlpha, PrecisionPolicy policy) {
        this(prefix, shape, balanceAlpha, policy, true);
    }

    /**
     * {@code sharedBuffers}: FP32 routed experts work on slices of one {@link ExpertBuffers} of n·K rows (the
     * default); false keeps a buffer per expert, sized by its own load, as FP8 experts always do (tests compare).
     */
    MoE(String prefix, MoeShape shape, float balanceAlpha, PrecisionPolicy policy, boolean sharedBuffers) {
        if (!(balanceAlpha >= 0f) || Float.isInfinite(balanceAlpha)) {
            throw new IllegalArgumentException("MoE " + prefix + ": balance alpha must be finite and >= 0, got "
                    + balanceAlpha);
        }
        this.shape = shape;
        this.balanceAlpha = balanceAlpha;
        int e = shape.nExperts();
        this.router = new Router(prefix, shape.hidden(), e, shape.topK(), shape.nGroup(), shape.topkGroup(),
                shape.normTopkProb(), shape.routedScalingFactor());
        this.experts = new SwiGluMlp[e];
        for (int j = 0; j < e; j++) {
            experts[j] = new SwiGluMlp(prefix + ".experts." + j, shape.hidden(), shape.moeInter(), policy);
        }
        this.shared = shape.nShared() > 0
                ? new SwiGluMlp(prefix + ".shared_experts", shape.hidden(), shape.nShared() * shape.moeInter(), policy)
                : null;
        this.load = new int[e];
        this.start = new int[e + 1];
        this.cursor = new int[e];
        this.order = new int[e];
        this.rows = !sharedBuffers || experts[0].isFp8() ? null : new ExpertBuffers(shape.hidden(), shape.moeInter());
        this.xe = new float[e][];
        this.ye = new float[e][];
        this.dye = new float[e][];
        this.dxe = new float[e][];
    }

    /** gate.weight, then experts 0..E−1 (gate_proj, up_proj, down_proj each), then the shared expert's. */
    public List<Param> params() {
        List<Param> ps = new ArrayList<>(router.params());
        for (SwiGluMlp ex : experts) {
            ps.addAll(ex.params());
        }
        if (shared != null) {
            ps.addAll(shared.params());
        }
        return Collections.unmodifiableList(ps);
    }

    public MoeShape shape() {
        return shape;
    }

    public Router router() {
        return router;
    }

    public SwiGluMlp expert(int j) {
        return experts[j];
    }

    /** The shared expert, or null when n_shared_experts = 0. */
    public SwiGluMlp shared() {
        return shared;
    }

    /** The routed experts' shared buffers, or null when each expert has its own (FP8). */
    ExpertBuffers expertBuffers() {
        return rows;
    }

    public float balanceAlpha() {
        return balanceAlpha;
    }

    /** Assignments per expert in the last forward [E] (live, read-only; sums to n·K). */
    public int[] load() {
        return load;
    }

    /** L_Bal of the last forward, averaged over its sequences (0 when α = 0). */
    public double balanceLoss() {
        return balanceLoss;
    }

    /**
     * x [n, H] (n = B·seqLen) → y [n, H]. Caches x (by reference), the routing, each expert's gathered input
     * and output, the shared output, and for the balance loss f [B, E] and Σ_j s [n].
     */
    public float[] forward(ComputePool pool, float[] x, int n, int seqLen) {
        if (seqLen < 1 || n % seqLen != 0) {
            throw new IllegalArgumentException("MoE: token count " + n + " is not a multiple of seqLen " + seqLen);
        }
        this.n = n;
        this.seqLen = seqLen;
        int h = shape.hidden();
        int k = shape.topK();
        int e = shape.nExperts();
        router.forward(pool, x, n);
        int[] top = router.topIndex();
        float[] w = router.topWeight();

        // counting sort of the n·K assignments by expert, increasing token order within an expert
        rowAssign = Buffers.ensure(rowAssign, n * k);
        slot = Buffers.ensure(slot, n * k);
        java.util.Arrays.fill(load, 0);
        for (int a = 0; a < n * k; a++) {
            load[top[a]]++;
        }
        start[0] = 0;
        for (int j = 0; j < e; j++) {
            start[j + 1] = start[j] + load[j];
            cursor[j] = start[j];
        }
        for (int a = 0; a < n * k; a++) {
            int j = top[a];
            int row = cursor[j]++;
            rowAssign[row] = a;
            slot[a] = row - start[j];
        }
        sortByLoad();
        if (rows != null) {
            rows.ensure(n * k);
        }

        pool.forEachDynamic(e, i -> {
            int j = order[i];
            int m = load[j];
            if (m == 0) {
                return;
            }
            if (rows != null) {
                float[] xj = rows.x;
                for (int r = start[j]; r < start[j] + m; r++) {
                    System.arraycopy(x, rowAssign[r] / k * h, xj, r * h, h);
                }
                experts[j].forwardRows(serial, rows, start[j], m);
                return;
            }
            float[] xj = Buffers.ensure(xe[j], m * h);
            xe[j] = xj;
            for (int r = 0; r < m; r++) {
                System.arraycopy(x, rowAssign[start[j] + r] / k * h, xj, r * h, h);
            }
            ye[j] = experts[j].forward(serial, xj, m);
        });
        sharedOut = shared != null ? shared.forward(pool, x, n) : null;

        y = Buffers.ensure(y, n * h);
        float[] y = this.y;
        float[] sh = sharedOut;
        pool.parallelFor(n, 1, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int yt = t * h;
                java.util.Arrays.fill(y, yt, yt + h, 0f);
                for (int c = 0; c < k; c++) {
                    int a = t * k + c;
                    float g = w[a];
                    float[] out = outputs(top[a]);
                    int o = (firstRow(top[a]) + slot[a]) * h;
                    for (int d = 0; d < h; d++) {
                        y[yt + d] += g * out[o + d];
                    }
                }
                if (sh != null) {
                    for (int d = 0; d < h; d++) {
                        y[yt + d] += sh[yt + d];
                    }
                }
            }
        });
        balanceLoss = balanceAlpha > 0f ? balanceForward() : 0.0;
        return y;
    }

    /** Expert j's outputs [load_j, H], from row {@link #firstRow}: the shared buffer's, or its own. */
    private float[] outputs(int j) {
        return rows != null ? rows.y : ye[j];
    }

    /** Expert j's input gradients [load_j, H], from row {@link #firstRow}. */
    private float[] inputGradients(int j) {
        return rows != null ? rows.dx : dxe[j];
    }

    /** Expert j's first row in {@link #outputs}/{@link #inputGradients}: start_j in the shared buffer, else 0. */
    private int firstRow(int j) {
        return rows != null ? start[j] : 0;
    }

    // Experts by load, largest first; equal loads by index (the order only affects scheduling).
    private void sortByLoad() {
        for (int i = 0; i < order.length; i++) {
            int j = i;
            while (j > 0 && load[order[j - 1]] < load[i]) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = i;
        }
    }

    // L_Bal averaged over sequences; caches f [B, E] and Σ_j s [n].
    private double balanceForward() {
        int e = shape.nExperts();
        int k = shape.topK();
        int b = n / seqLen;
        float[] s = router.scores();
        int[] top = router.topIndex();
        balanceF = ensure(balanceF, b * e);
        rowSum = ensure(rowSum, n);
        double fScale = (double) e / ((double) k * seqLen);
        double total = 0.0;
        for (int q = 0; q < b; q++) {
            int f0 = q * e;
            java.util.Arrays.fill(balanceF, f0, f0 + e, 0.0);
            for (int a = q * seqLen * k; a < (q + 1) * seqLen * k; a++) {
                balanceF[f0 + top[a]] += 1.0;
            }
            for (int i = 0; i < e; i++) {
                balanceF[f0 + i] *= fScale;
            }
            double seq = 0.0;
            for (int t = q * seqLen; t < (q + 1) * seqLen; t++) {
                double sum = 0.0;
                for (int i = 0; i < e; i++) {
                    sum += s[t * e + i];
                }
                rowSum[t] = sum;
                double dot = 0.0;
                for (int i = 0; i < e; i++) {
                    dot += balanceF[f0 + i] * s[t * e + i];
                }
                seq += dot / sum;
            }
            total += balanceAlpha * seq / seqLen;
        }
        return total / b;
    }

    /** dy [n, H] → dx [n, H]; accumulates into all Params' g; adds the balance loss gradient when α > 0. */
    public float[] backward(ComputePool pool, float[] dy, int n) {
        if (n != this.n) {
            throw new IllegalArgumentException("MoE backward: " + n + " tokens, but the last forward had " + this.n);
        }
        int h = shape.hidden();
        int k = shape.topK();
        int e = shape.nExperts();
        int[] top = router.topIndex();
        float[] w = router.topWeight();
        dTopWeight = Buffers.ensure(dTopWeight, n * k);
        float[] dTop = dTopWeight;

        pool.forEachDynamic(e, i -> {
            int j = order[i];
            int m = load[j];
            if (m == 0) {
                return;
            }
            float[] dj = rows != null ? rows.dy : Buffers.ensure(dye[j], m * h);
            float[] out = outputs(j);
            int r0 = firstRow(j);
            for (int r = r0; r < r0 + m; r++) {
                int a = rowAssign[start[j] + r - r0];
                int yt = a / k * h;
                float g = w[a];
                double dot = 0.0;
                for (int d = 0; d < h; d++) {
                    float v = dy[yt + d];
                    dj[r * h + d] = g * v;
                    dot += (double) v * out[r * h + d];
                }
                dTop[a] = (float) dot;
            }
            if (rows != null) {
                experts[j].backwardRows(serial, rows, r0, m);
            } else {
                dye[j] = dj;
                dxe[j] = experts[j].backward(serial, dj, m);
            }
        });
        float[] dxShared = shared != null ? shared.backward(pool, dy, n) : null;
        float[] dxRouter = router.backward(pool, dTop, balanceAlpha > 0f ? balanceBackward() : null, n);

        dx = Buffers.ensure(dx, n * h);
        float[] dx = this.dx;
        pool.parallelFor(n, 1, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int xt = t * h;
                java.util.Arrays.fill(dx, xt, xt + h, 0f);
                for (int c = 0; c < k; c++) {
                    int a = t * k + c;
                    float[] g = inputGradients(top[a]);
                    int o = (firstRow(top[a]) + slot[a]) * h;
                    for (int d = 0; d < h; d++) {
                        dx[xt + d] += g[o + d];
                    }
                }
                for (int d = 0; d < h; d++) {
                    float v = dx[xt + d] + dxRouter[xt + d];
                    dx[xt + d] = dxShared != null ? v + dxShared[xt + d] : v;
                }
            }
        });
        return dx;
    }

    // ∂L_Bal/∂s [n, E] (spec §7 "Balance loss", with the 1/B mean over sequences).
    private float[] balanceBackward() {
        int e = shape.nExperts();
        int b = n / seqLen;
        float[] s = router.scores();
        dScores = Buffers.ensure(dScores, n * e);
        double c = balanceAlpha / ((double) seqLen * b);
        for (int t = 0; t < n; t++) {
            int f0 = t / seqLen * e;
            double sum = rowSum[t];
            double dot = 0.0;
            for (int i = 0; i < e; i++) {
                dot += balanceF[f0 + i] * s[t * e + i];
            }
            dot /= sum;
            for (int i = 0; i < e; i++) {
                dScores[t * e + i] = (float) (c * (balanceF[f0 + i] - dot) / sum);
            }
        }
        return dScores;
    }

    private static double[] ensure(double[] buf, int size) {
        return buf != null && buf.length >= size ? buf : new double[size];
    }
}
