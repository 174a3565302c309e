package io.sparkseek.model.layer;

import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.kernel.CpuGemm;
import io.sparkseek.model.kernel.VecMath;

import static io.sparkseek.model.layer.Linear.InputCache.E4M3;

import java.util.ArrayList;
import java.util.List;

/**
 * Multi-head Latent Attention (spec §3.1–§3.2, backward §7), HF names under {@code prefix}
 * (e.g. {@code model.layers.0.self_attn}).
 *
 * <pre>
 * q   = q_b_proj(RMSNorm_qa(q_a_proj(x)))       or q_proj(x) without q LoRA      [n, nh·(dn+dr)]
 * kv  = kv_a_proj_with_mqa(x) = [cKV | k_pe]                                      [n, rkv+dr]
 * kvb = kv_b_proj(RMSNorm_kva(cKV)) = per head [k_nope | v]                      [n, nh·(dn+dv)]
 * RoPE on each head's q_pe and on the one shared k_pe; causal softmax(scale·q·kᵀ)·v; o_proj.
 * </pre>
 * The attention core runs per (sequence, head) in parallel; Q·Kᵀ is computed as q_nope·k_noptᵀ + q_pe·k_peᵀ
 * straight from the projection outputs, so no per-head key tensor is materialised.
 */
public final class Mla {
    /** q_a_layernorm and kv_a_layernorm always use 1e-6, whatever rms_norm_eps says (spec §1.4). */
    public static final double LATENT_NORM_EPS = 1e-6;
    /** Query rows per causal block of the attention core. */
    private static final int ATTN_BLOCK = 64;

    private final int nh;
    private final int dn;
    private final int dr;
    private final int dv;
    private final int dq;
    private final int rkv;
    private final float scale;
    private final Linear qA;        // null without q LoRA
    private final RmsNorm qNorm;    // null without q LoRA
    private final Linear qB;        // q_b_proj, or q_proj without q LoRA
    private final Linear kvA;
    private final RmsNorm kvNorm;
    private final Linear kvB;
    private final Linear oProj;
    private final Rope rope;
    private final List<Param> params = new ArrayList<>();
    private final ComputePool serial = ComputePool.serial();

    private int batch;
    private int seqLen;
    // forward caches
    private float[] q;        // rotated queries [n, nh·dq] (q_b_proj's output, rotated in place)
    private float[] ckv;      // [n, rkv]
    private float[] kpe;      // rotated shared rope key [n, dr]
    private float[] kvb;      // [n, nh·(dn+dv)] (kv_b_proj's output)
    private float[] probs;    // softmax probabilities [batch·nh, T, T]
    private float[] attnOut;  // [n, nh·dv]
    // backward buffers
    private float[] dScores;  // [batch·nh, T, T]
    private float[] dQ;       // query gradient [n, nh·dq]
    private float[] dkvb;     // [n, nh·(dn+dv)]
    private float[] dkpeHead; // per-head rope-key gradient [batch·nh, T, dr]
    private float[] dkv;      // [n, rkv+dr]
    private float[] dx;       // [n, hidden]

    /**
     * @param qLoraRank 0 for a single {@code q_proj}
     * @param policy    FP8 or FP32 projections (the attention core is always FP32, spec §8.1)
     */
    public Mla(String prefix, int hidden, int nHeads, int qLoraRank, int kvLoraRank,
               int qkNope, int qkRope, int vHead, Rope rope, PrecisionPolicy policy) {
        this.nh = nHeads;
        this.dn = qkNope;
        this.dr = qkRope;
        this.dv = vHead;
        this.dq = qkNope + qkRope;
        this.rkv = kvLoraRank;
        this.scale = (float) (1.0 / Math.sqrt(dq));
        this.rope = rope;
        if (rope.dim() != qkRope) {
            throw new IllegalArgumentException("RoPE dim " + rope.dim() + " != qk_rope_head_dim " + qkRope);
        }
        if (qLoraRank > 0) {
            qA = new Linear(add(new Param(prefix + ".q_a_proj.weight", qLoraRank, hidden)), policy, E4M3);
            qNorm = new RmsNorm(add(new Param(prefix + ".q_a_layernorm.weight", qLoraRank)), LATENT_NORM_EPS);
            qB = new Linear(add(new Param(prefix + ".q_b_proj.weight", nh * dq, qLoraRank)), policy, E4M3);
        } else {
            qA = null;
            qNorm = null;
            qB = new Linear(add(new Param(prefix + ".q_proj.weight", nh * dq, hidden)), policy, E4M3);
        }
        kvA = new Linear(add(new Param(prefix + ".kv_a_proj_with_mqa.weight", rkv + dr, hidden)), policy, E4M3);
        kvNorm = new RmsNorm(add(new Param(prefix + ".kv_a_layernorm.weight", rkv)), LATENT_NORM_EPS);
        kvB = new Linear(add(new Param(prefix + ".kv_b_proj.weight", nh * (dn + dv), rkv)), policy, E4M3);
        // The o_proj input (the attention output) is cached in E5M6 with power-of-two scales (spec §8.5).
        oProj = new Linear(add(new Param(prefix + ".o_proj.weight", hidden, nh * dv)), policy,
                Linear.InputCache.E5M6);
    }

    private Param add(Param p) {
        params.add(p);
        return p;
    }

    /** Parameters in HF order (spec §9.2). */
    public List<Param> params() {
        return params;
    }

    // Read accessors for inference (io.sparkseek.model.infer), which runs the projections itself.

    /** {@code q_a_proj}, or null without q LoRA. */
    public Linear qAProj() {
        return qA;
    }

    /** {@code q_a_layernorm}, or null without q LoRA. */
    public RmsNorm qANorm() {
        return qNorm;
    }

    /** {@code q_b_proj}, or {@code q_proj} without q LoRA: [nh·(dn+dr), rq or hidden]. */
    public Linear qBProj() {
        return qB;
    }

    /** {@code kv_a_proj_with_mqa}: [rkv+dr, hidden]. */
    public Linear kvAProj() {
        return kvA;
    }

    /** {@code kv_a_layernorm}: [rkv]. */
    public RmsNorm kvANorm() {
        return kvNorm;
    }

    /** {@code kv_b_proj}: [nh·(dn+dv), rkv], rows of head h = [k_nope (dn) | v (dv)]. */
    public Linear kvBProj() {
        return kvB;
    }

    /** {@code o_proj}: [hidden, nh·dv]. */
    public Linear oProj() {
        return oProj;
    }

    /** The RoPE tables shared by all layers. */
    public Rope rope() {
        return rope;
    }

    /** Softmax scale (dn+dr)^(−1/2). */
    public float scale() {
        return scale;
    }

    /** x [batch·T, hidden] (already normalised) → [batch·T, hidden]. */
    public float[] forward(ComputePool pool, float[] x, int batch, int seqLen) {
        this.batch = batch;
        this.seqLen = seqLen;
        int n = batch * seqLen;
        if (qA != null) {
            q = qB.forward(pool, qNorm.forward(pool, qA.forward(pool, x, n), n), n);
        } else {
            q = qB.forward(pool, x, n);
        }
        float[] kv = kvA.forwardOnInputOf(pool, qA != null ? qA : qB, n);   // same x: quantized once in FP8
        ckv = Buffers.ensure(ckv, n * rkv);
        kpe = Buffers.ensure(kpe, n * dr);
        int kvw = rkv + dr;
        for (int t = 0; t < n; t++) {
            System.arraycopy(kv, t * kvw, ckv, t * rkv, rkv);
            System.arraycopy(kv, t * kvw + rkv, kpe, t * dr, dr);
            int pos = t % seqLen;
            rope.rotate(kpe, t * dr, pos);
            for (int h = 0; h < nh; h++) {
                rope.rotate(q, t * nh * dq + h * dq + dn, pos);
            }
        }
        kvb = kvB.forward(pool, kvNorm.forward(pool, ckv, n), n);

        int tt = seqLen * seqLen;
        probs = Buffers.ensure(probs, batch * nh * tt);
        attnOut = Buffers.ensure(attnOut, n * nh * dv);
        pool.forEachDynamic(batch * nh, task -> attendForward(task / nh, task % nh));
        return oProj.forward(pool, attnOut, n);
    }

    // One (sequence b, head h): P = causal softmax(scale·(q_nope·k_nopeᵀ + q_pe·k_peᵀ)), O = P·V.
    // Rows go in blocks of ATTN_BLOCK; a block only touches the key columns up to its last row (causal), so the
    // zero upper triangle is skipped except inside the diagonal blocks.
    private void attendForward(int b, int h) {
        int t = seqLen;
        int row0 = b * t;
        int qld = nh * dq;
        int kvld = nh * (dn + dv);
        int old = nh * dv;
        int pOff = (b * nh + h) * t * t;
        for (int i0 = 0; i0 < t; i0 += ATTN_BLOCK) {
            int rows = Math.min(ATTN_BLOCK, t - i0);
            int cols = i0 + rows;
            int p0 = pOff + i0 * t;
            CpuGemm.nt(serial, rows, cols, dn, q, (row0 + i0) * qld + h * dq, qld,
                    kvb, row0 * kvld + h * (dn + dv), kvld, probs, p0, t, false);
            CpuGemm.nt(serial, rows, cols, dr, q, (row0 + i0) * qld + h * dq + dn, qld,
                    kpe, row0 * dr, dr, probs, p0, t, true);
            for (int i = i0; i < cols; i++) {
                int r = pOff + i * t;
                VecMath.scale(probs, r, i + 1, scale);
                float max = VecMath.max(probs, r, i + 1);
                float sum = VecMath.expShifted(probs, r, probs, r, i + 1, max);
                VecMath.scale(probs, r, i + 1, 1f / sum);
                java.util.Arrays.fill(probs, r + i + 1, r + cols, 0f);
            }
            CpuGemm.nn(serial, rows, dv, cols, probs, p0, t, kvb, row0 * kvld + h * (dn + dv) + dn, kvld,
                    attnOut, (row0 + i0) * old + h * dv, old, false);
        }
    }

    /** dy [batch·T, hidden] → dx [batch·T, hidden]; accumulates every projection's and norm's gradient. */
    public float[] backward(ComputePool pool, float[] dy) {
        int n = batch * seqLen;
        float[] dAttnOut = oProj.backward(pool, dy, n);
        int tt = seqLen * seqLen;
        dScores = Buffers.ensure(dScores, batch * nh * tt);
        dQ = Buffers.ensure(dQ, n * nh * dq);
        dkvb = Buffers.ensure(dkvb, n * nh * (dn + dv));
        dkpeHead = Buffers.ensure(dkpeHead, batch * nh * seqLen * dr);
        pool.forEachDynamic(batch * nh, task -> attendBackward(task / nh, task % nh, dAttnOut));

        // Shared rope key: sum the heads' gradients in head order, then undo the rotation.
        int kvw = rkv + dr;
        dkv = Buffers.ensure(dkv, n * kvw);
        for (int t = 0; t < n; t++) {
            int b = t / seqLen;
            int pos = t % seqLen;
            int dst = t * kvw + rkv;
            java.util.Arrays.fill(dkv, dst, dst + dr, 0f);
            for (int h = 0; h < nh; h++) {
                int src = ((b * nh + h) * seqLen + pos) * dr;
                for (int j = 0; j < dr; j++) {
                    dkv[dst + j] += dkpeHead[src + j];
                }
            }
            rope.rotateBack(dkv, dst, pos);
            for (int h = 0; h < nh; h++) {
                rope.rotateBack(dQ, t * nh * dq + h * dq + dn, pos);
            }
        }
        float[] dckv = kvNorm.backward(pool, kvB.backward(pool, dkvb, n), n);
        for (int t = 0; t < n; t++) {
            System.arraycopy(dckv, t * rkv, dkv, t * kvw, rkv);
        }
        float[] dxKv = kvA.backward(pool, dkv, n);
        float[] dxQ = qA != null
                ? qA.backward(pool, qNorm.backward(pool, qB.backward(pool, dQ, n), n), n)
                : qB.backward(pool, dQ, n);
        int hidden = oProj.out();
        dx = Buffers.ensure(dx, n * hidden);
        for (int i = 0; i < n * hidden; i++) {
            dx[i] = dxKv[i] + dxQ[i];
        }
        return dx;
    }

    // One (sequence b, head h): dV = Pᵀ·dO, dP = dO·Vᵀ, dS = scale·P⊙(dP − rowsum(dP⊙P)), dQ = dS·K, dK = dSᵀ·Q.
    // Same causal blocking as the forward: row block [i0, i0+rows) reads key columns [0, i0+rows); key block
    // [j0, j0+cols) receives gradient from query rows [j0, t).
    private void attendBackward(int b, int h, float[] dAttnOut) {
        int t = seqLen;
        int row0 = b * t;
        int qld = nh * dq;
        int kvld = nh * (dn + dv);
        int old = nh * dv;
        int pOff = (b * nh + h) * t * t;
        int vOff = row0 * kvld + h * (dn + dv) + dn;
        int kOff = row0 * kvld + h * (dn + dv);
        int qOff = row0 * qld + h * dq;
        int doOff = row0 * old + h * dv;
        int dkpeOff = (b * nh + h) * t * dr;
        for (int i0 = 0; i0 < t; i0 += ATTN_BLOCK) {
            int rows = Math.min(ATTN_BLOCK, t - i0);
            int cols = i0 + rows;
            int p0 = pOff + i0 * t;
            CpuGemm.nt(serial, rows, cols, dv, dAttnOut, doOff + i0 * old, old, kvb, vOff, kvld, dScores, p0, t, false);
            for (int i = i0; i < cols; i++) {
                int r = pOff + i * t;
                float dot = 0f;
                for (int j = 0; j <= i; j++) {
                    dot += dScores[r + j] * probs[r + j];
                }
                for (int j = 0; j <= i; j++) {
                    dScores[r + j] = scale * probs[r + j] * (dScores[r + j] - dot);
                }
                java.util.Arrays.fill(dScores, r + i + 1, r + cols, 0f);
            }
            CpuGemm.nn(serial, rows, dn, cols, dScores, p0, t, kvb, kOff, kvld, dQ, qOff + i0 * qld, qld, false);
            CpuGemm.nn(serial, rows, dr, cols, dScores, p0, t, kpe, row0 * dr, dr, dQ, qOff + i0 * qld + dn, qld, false);
        }
        for (int j0 = 0; j0 < t; j0 += ATTN_BLOCK) {
            int cols = Math.min(ATTN_BLOCK, t - j0);
            int rows = t - j0;
            int p0 = pOff + j0 * t + j0;
            CpuGemm.tn(serial, cols, dv, rows, probs, p0, t, dAttnOut, doOff + j0 * old, old,
                    dkvb, vOff + j0 * kvld, kvld, false);
            CpuGemm.tn(serial, cols, dn, rows, dScores, p0, t, q, qOff + j0 * qld, qld,
                    dkvb, kOff + j0 * kvld, kvld, false);
            CpuGemm.tn(serial, cols, dr, rows, dScores, p0, t, q, qOff + j0 * qld + dn, qld,
                    dkpeHead, dkpeOff + j0 * dr, dr, false);
        }
    }
}
