package io.sparkseek.model.infer;

import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.Linear;
import io.sparkseek.model.layer.Mla;
import io.sparkseek.model.layer.Rope;

/**
 * One layer's MLA for incremental decoding against a {@link LatentKvCache}, with weight absorption (spec §3.2 last
 * paragraph, the official {@code attn_impl="absorb"}): per head h, with W^UK(h) [dn, rkv] and W^UV(h) [dv, rkv] the
 * rows of {@code kv_b_proj},
 * <pre>
 * q_nope_h·k_nope_h(j) = (W^UK(h)ᵀ q_nope_h) · cKV(j)               q̃_h [rkv]: the query absorbed into latent space
 * s_h(t, j) = scale·(q̃_h·cKV(j) + q_pe_h(t)·k_pe(j)),  j ≤ t          causal over the cache
 * o_h(t)   = W^UV(h) (Σ_j softmax(s_h)(j) · cKV(j))                   the latent average, expanded once per head
 * </pre>
 * which equals the naive per-head path algebraically (FP32 rounding differs). The projections ({@code q_a}, norms,
 * {@code q_b}/{@code q_proj}, {@code kv_a}, {@code o_proj}) run through the model's own layers; {@code kv_b_proj}'s
 * weight is read directly ({@code p.w()}). FP32 only.
 *
 * <p>Scratch: the query buffer [m, nh·dq] and the attention output [m, nh·dv]; per (token, head) task a q̃ [rkv],
 * scores [t+1] and latent average [rkv], allocated in the task. Not thread-safe (one instance per decoder).
 */
final class AbsorbedMla {
    private final Mla mla;
    private final int layer;
    private final int nh;
    private final int dn;
    private final int dr;
    private final int dv;
    private final int dq;
    private final int rkv;
    private final float scale;
    private final Rope rope;
    private final float[] kvb;     // kv_b_proj.weight [nh·(dn+dv), rkv]

    private float[] q;             // rotated queries of the new tokens [m, nh·dq]
    private float[] attn;          // attention output [m, nh·dv]

    AbsorbedMla(Mla mla, int layer, int nHeads, int qkNope, int qkRope, int vHead, int kvLoraRank) {
        this.mla = mla;
        this.layer = layer;
        this.nh = nHeads;
        this.dn = qkNope;
        this.dr = qkRope;
        this.dv = vHead;
        this.dq = qkNope + qkRope;
        this.rkv = kvLoraRank;
        this.scale = mla.scale();
        this.rope = mla.rope();
        Linear kvB = mla.kvBProj();
        if (kvB.out() != nh * (dn + dv) || kvB.in() != rkv) {
            throw new IllegalArgumentException("layer " + layer + ": kv_b_proj is [" + kvB.out() + ", " + kvB.in()
                    + "], expected [" + nh * (dn + dv) + ", " + rkv + "] from config.json");
        }
        this.kvb = kvB.weight().w();
    }

    /**
     * x [m, hidden] (after input_layernorm) at positions [cache.length(), +m) → [m, hidden] (o_proj's buffer).
     * Writes this layer's cKV and k_pe rows for the m positions into the cache (already reserved).
     */
    float[] forward(ComputePool pool, float[] x, int m, LatentKvCache cache) {
        int start = cache.length();
        float[] qOut = mla.qAProj() != null
                ? mla.qBProj().forward(pool, mla.qANorm().forward(pool, mla.qAProj().forward(pool, x, m), m), m)
                : mla.qBProj().forward(pool, x, m);
        q = ensure(q, m * nh * dq);
        System.arraycopy(qOut, 0, q, 0, m * nh * dq);
        float[] kv = mla.kvAProj().forward(pool, x, m);
        int kvw = rkv + dr;
        float[] ckv = cache.latents(layer);
        float[] kpe = cache.ropeKeys(layer);
        float[] raw = new float[m * rkv];
        for (int t = 0; t < m; t++) {
            int pos = start + t;
            System.arraycopy(kv, t * kvw, raw, t * rkv, rkv);
            System.arraycopy(kv, t * kvw + rkv, kpe, pos * dr, dr);
            rope.rotate(kpe, pos * dr, pos);
            for (int h = 0; h < nh; h++) {
                rope.rotate(q, t * nh * dq + h * dq + dn, pos);
            }
        }
        float[] normed = mla.kvANorm().forward(pool, raw, m);
        System.arraycopy(normed, 0, ckv, start * rkv, m * rkv);

        attn = ensure(attn, m * nh * dv);
        float[] qv = q;
        float[] out = attn;
        pool.forEachDynamic(m * nh, task -> attend(task / nh, task % nh, start, qv, ckv, kpe, out));
        return mla.oProj().forward(pool, attn, m);
    }

    // New token t (position start + t), head h: scores over cache rows [0, start + t], latent average, W^UV.
    private void attend(int t, int h, int start, float[] q, float[] ckv, float[] kpe, float[] out) {
        int len = start + t + 1;
        int qOff = t * nh * dq + h * dq;
        int wOff = h * (dn + dv) * rkv;
        float[] qAbs = new float[rkv];
        for (int i = 0; i < dn; i++) {
            float qi = q[qOff + i];
            int row = wOff + i * rkv;
            for (int r = 0; r < rkv; r++) {
                qAbs[r] += qi * kvb[row + r];
            }
        }
        float[] p = new float[len];
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < len; j++) {
            float s = 0f;
            int c = j * rkv;
            for (int r = 0; r < rkv; r++) {
                s += qAbs[r] * ckv[c + r];
            }
            int k = j * dr;
            for (int d = 0; d < dr; d++) {
                s += q[qOff + dn + d] * kpe[k + d];
            }
            s *= scale;
            p[j] = s;
            max = Math.max(max, s);
        }
        double sum = 0;
        for (int j = 0; j < len; j++) {
            float e = (float) Math.exp(p[j] - max);
            p[j] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        float[] lat = new float[rkv];
        for (int j = 0; j < len; j++) {
            float pj = p[j] * inv;
            int c = j * rkv;
            for (int r = 0; r < rkv; r++) {
                lat[r] += pj * ckv[c + r];
            }
        }
        int oOff = t * nh * dv + h * dv;
        int vOff = wOff + dn * rkv;
        for (int k = 0; k < dv; k++) {
            float o = 0f;
            int row = vOff + k * rkv;
            for (int r = 0; r < rkv; r++) {
                o += kvb[row + r] * lat[r];
            }
            out[oOff + k] = o;
        }
    }

    private static float[] ensure(float[] buf, int size) {
        return buf != null && buf.length >= size ? buf : new float[size];
    }
}
