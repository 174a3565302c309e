package io.sparkseek.model.optim;

import io.sparkseek.model.fp8.Bf16;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.Param;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (decoupled weight decay) on FP32 master weights, moments in FP32 or BF16 (spec §8.1, §11).
 * <pre>
 * m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 * w ← w − lr·( m/(1−β1ᵗ) / (sqrt(v/(1−β2ᵗ)) + ε) + λ·w )      λ only for matrices
 * </pre>
 * With BF16 moments every element is computed in FP32 and stored back with round-to-nearest-even.
 */
public final class AdamW {
    private static final int MIN_ELEMS_PER_TASK = 16_384;

    private final List<Param> params;
    private final AdamWConfig cfg;
    private final float[][] m32;
    private final float[][] v32;
    private final short[][] m16;
    private final short[][] v16;
    private long step;

    public AdamW(List<Param> params, AdamWConfig cfg) {
        this.params = List.copyOf(params);
        this.cfg = cfg;
        int k = params.size();
        if (cfg.bf16Moments()) {
            m16 = new short[k][];
            v16 = new short[k][];
            m32 = null;
            v32 = null;
            for (int i = 0; i < k; i++) {
                m16[i] = new short[params.get(i).size()];
                v16[i] = new short[params.get(i).size()];
            }
        } else {
            m32 = new float[k][];
            v32 = new float[k][];
            m16 = null;
            v16 = null;
            for (int i = 0; i < k; i++) {
                m32[i] = new float[params.get(i).size()];
                v32[i] = new float[params.get(i).size()];
            }
        }
    }

    public AdamWConfig config() {
        return cfg;
    }

    /** Optimizer steps taken so far (t in the bias corrections). */
    public long step() {
        return step;
    }

    /** Whether {@code p} gets weight decay: matrices yes, vectors (norm weights) no. */
    public static boolean decays(Param p) {
        return p.rank() >= 2;
    }

    /** One update of every parameter from its current gradient. */
    public void update(ComputePool pool, double lr) {
        step++;
        float b1 = (float) cfg.beta1();
        float b2 = (float) cfg.beta2();
        float c1 = (float) (1.0 / (1.0 - Math.pow(cfg.beta1(), step)));
        float c2 = (float) (1.0 / (1.0 - Math.pow(cfg.beta2(), step)));
        float eps = (float) cfg.eps();
        float lrf = (float) lr;
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            float decay = decays(p) ? (float) (lr * cfg.weightDecay()) : 0f;
            float[] w = p.w();
            float[] g = p.g();
            final int pi = i;
            pool.parallelFor(w.length, MIN_ELEMS_PER_TASK, (lo, hi) -> {
                for (int j = lo; j < hi; j++) {
                    float gj = g[j];
                    float mj;
                    float vj;
                    if (m32 != null) {
                        mj = b1 * m32[pi][j] + (1 - b1) * gj;
                        vj = b2 * v32[pi][j] + (1 - b2) * gj * gj;
                        m32[pi][j] = mj;
                        v32[pi][j] = vj;
                    } else {
                        mj = b1 * Bf16.toFloat(m16[pi][j]) + (1 - b1) * gj;
                        vj = b2 * Bf16.toFloat(v16[pi][j]) + (1 - b2) * gj * gj;
                        m16[pi][j] = Bf16.fromFloat(mj);
                        v16[pi][j] = Bf16.fromFloat(vj);
                    }
                    float upd = (mj * c1) / ((float) Math.sqrt(vj * c2) + eps);
                    w[j] = w[j] - decay * w[j] - lrf * upd;
                }
            });
        }
    }

    /** Moments as FP32 arrays under {@code <param>.exp_avg} / {@code <param>.exp_avg_sq} (for checkpoints). */
    public Map<String, float[]> moments() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            String name = params.get(i).name();
            out.put(name + ".exp_avg", m32 != null ? m32[i].clone() : Bf16.toFloats(m16[i]));
            out.put(name + ".exp_avg_sq", v32 != null ? v32[i].clone() : Bf16.toFloats(v16[i]));
        }
        return out;
    }

    /** Restores moments saved by {@link #moments()} and the step count; names and sizes must match exactly. */
    public void restore(Map<String, float[]> moments, long step) {
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            float[] m = require(moments, p.name() + ".exp_avg", p.size());
            float[] v = require(moments, p.name() + ".exp_avg_sq", p.size());
            if (m32 != null) {
                System.arraycopy(m, 0, m32[i], 0, m.length);
                System.arraycopy(v, 0, v32[i], 0, v.length);
            } else {
                m16[i] = Bf16.fromFloats(m);
                v16[i] = Bf16.fromFloats(v);
            }
        }
        this.step = step;
    }

    private static float[] require(Map<String, float[]> moments, String name, int size) {
        float[] a = moments.get(name);
        if (a == null) {
            throw new IllegalArgumentException("optimizer state has no tensor " + name
                    + ": the checkpoint was written for another model config");
        }
        if (a.length != size) {
            throw new IllegalArgumentException("optimizer tensor " + name + " has " + a.length
                    + " values, the parameter has " + size);
        }
        return a;
    }
}
