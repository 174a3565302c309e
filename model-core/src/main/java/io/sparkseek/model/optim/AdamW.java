package io.sparkseek.model.optim;

import io.sparkseek.model.fp8.Bf16;
import io.sparkseek.model.kernel.Bf16Vectors;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.Param;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

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
    /** BF16 moments are decoded into FP32 scratch in chunks of this many elements, updated, and re-encoded. */
    private static final int CHUNK = 1024;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][CHUNK]);

    /**
     * One element's update, vectorised: every operation is a separate IEEE op in the scalar order (no fused
     * multiply-add; sqrt and division are correctly rounded in both), so lanes equal the scalar tail bit for bit.
     */
    private record Step(float b1, float b2, float c1, float c2, float eps, float lr, float decay) {

        /** w[w0 + j] and g[w0 + j] with moments m[m0 + j], v[m0 + j], for j in [0, len). */
        void apply(float[] w, float[] g, int w0, float[] mf, float[] vf, int m0, int len) {
            int j = 0;
            for (int end = S.loopBound(len); j < end; j += S.length()) {
                FloatVector gj = FloatVector.fromArray(S, g, w0 + j);
                FloatVector mj = FloatVector.fromArray(S, mf, m0 + j).mul(b1).add(gj.mul(1 - b1));
                FloatVector vj = FloatVector.fromArray(S, vf, m0 + j).mul(b2).add(gj.mul(1 - b2).mul(gj));
                mj.intoArray(mf, m0 + j);
                vj.intoArray(vf, m0 + j);
                FloatVector upd = mj.mul(c1).div(vj.mul(c2).sqrt().add(eps));
                FloatVector wj = FloatVector.fromArray(S, w, w0 + j);
                wj.sub(wj.mul(decay)).sub(upd.mul(lr)).intoArray(w, w0 + j);
            }
            for (; j < len; j++) {
                float gj = g[w0 + j];
                float mj = b1 * mf[m0 + j] + (1 - b1) * gj;
                float vj = b2 * vf[m0 + j] + (1 - b2) * gj * gj;
                mf[m0 + j] = mj;
                vf[m0 + j] = vj;
                float upd = (mj * c1) / ((float) Math.sqrt(vj * c2) + eps);
                w[w0 + j] = w[w0 + j] - decay * w[w0 + j] - lr * upd;
            }
        }
    }

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
            Step st = new Step(b1, b2, c1, c2, eps, lrf, decay);
            if (m32 != null) {
                float[] m = m32[i];
                float[] v = v32[i];
                pool.parallelFor(w.length, MIN_ELEMS_PER_TASK, (lo, hi) -> st.apply(w, g, lo, m, v, lo, hi - lo));
            } else {
                short[] m = m16[i];
                short[] v = v16[i];
                pool.parallelFor(w.length, MIN_ELEMS_PER_TASK, (lo, hi) -> {
                    float[][] scratch = SCRATCH.get();
                    float[] mf = scratch[0];
                    float[] vf = scratch[1];
                    for (int c0 = lo; c0 < hi; c0 += CHUNK) {
                        int len = Math.min(CHUNK, hi - c0);
                        Bf16Vectors.toFloats(m, c0, mf, 0, len);
                        Bf16Vectors.toFloats(v, c0, vf, 0, len);
                        st.apply(w, g, c0, mf, vf, 0, len);
                        Bf16Vectors.fromFloats(mf, 0, m, c0, len);
                        Bf16Vectors.fromFloats(vf, 0, v, c0, len);
                    }
                });
            }
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
