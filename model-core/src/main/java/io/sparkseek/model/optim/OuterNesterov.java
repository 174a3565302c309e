package io.sparkseek.model.optim;

import io.sparkseek.model.layer.Param;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outer optimizer of local-steps training (ARCHITECTURE §2, mode {@code local}): SGD with Nesterov momentum
 * on the outer gradient, as in DiLoCo (Douillard et al., "DiLoCo: Distributed Low-Communication Training of
 * Language Models", 2023, Algorithm 1; their defaults lr 0.7, momentum 0.9). After a stage of H inner steps the
 * replicas' mean weight change is Δ = mean_r(w_r − w); the outer gradient is {@code g = −Δ} and, in PyTorch's
 * {@code SGD(nesterov=True)} form with zero dampening,
 * <pre>
 * v ← μ·v + g
 * w ← w − lr·(g + μ·v)
 * </pre>
 * With μ = 0 and lr = 1 this is plain averaging of the replicas' weights. Every element is computed in FP32 in
 * that order, so the result is a pure function of (w, v, g). The velocity v is optimizer state: a checkpoint
 * must store it ({@link #velocity()}, {@link #restore}) for an exact resume.
 */
public final class OuterNesterov {
    /** Checkpoint tensor name suffix of a parameter's velocity. */
    public static final String VELOCITY = ".outer_velocity";

    private final List<Param> params;
    private final float lr;
    private final float momentum;
    private final float[][] velocity;   // [param][size], zero before the first step
    private long step;

    /**
     * @param lr       outer learning rate ({@code sparkseek.train.outerLr})
     * @param momentum μ in [0, 1) ({@code sparkseek.train.outerMomentum})
     */
    public OuterNesterov(List<Param> params, double lr, double momentum) {
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("outer learning rate must be finite and > 0, got " + lr);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("outer momentum must be in [0, 1), got " + momentum);
        }
        this.params = List.copyOf(params);
        this.lr = (float) lr;
        this.momentum = (float) momentum;
        this.velocity = new float[this.params.size()][];
        for (int i = 0; i < velocity.length; i++) {
            velocity[i] = new float[this.params.get(i).size()];
        }
    }

    /** Outer steps taken so far. */
    public long step() {
        return step;
    }

    /**
     * One outer step from {@code delta[i]} = the mean weight change Δ of parameter i over the stage (same order
     * and sizes as the params): outer gradient g = −Δ. Updates every {@link Param#w()} and the velocity in place.
     */
    public void update(float[][] delta) {
        if (delta.length != params.size()) {
            throw new IllegalArgumentException("outer step needs " + params.size() + " deltas, got " + delta.length);
        }
        for (int i = 0; i < delta.length; i++) {
            Param p = params.get(i);
            float[] w = p.w();
            float[] v = velocity[i];
            float[] d = delta[i];
            if (d.length != w.length) {
                throw new IllegalArgumentException("delta of " + p.name() + " has " + d.length
                        + " values, the parameter has " + w.length);
            }
            for (int j = 0; j < w.length; j++) {
                float g = -d[j];
                float vj = momentum * v[j] + g;
                v[j] = vj;
                w[j] = w[j] - lr * (g + momentum * vj);
            }
        }
        step++;
    }

    /** Velocities as copies under {@code <param>.outer_velocity}, in parameter order (for checkpoints). */
    public Map<String, float[]> velocity() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            out.put(params.get(i).name() + VELOCITY, velocity[i].clone());
        }
        return out;
    }

    /** Restores velocities saved by {@link #velocity()} and the step count; names and sizes must match exactly. */
    public void restore(Map<String, float[]> saved, long step) {
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            float[] v = saved.get(p.name() + VELOCITY);
            if (v == null) {
                throw new IllegalArgumentException("outer optimizer state has no tensor " + p.name() + VELOCITY
                        + ": the checkpoint was written for another model config or mode");
            }
            if (v.length != p.size()) {
                throw new IllegalArgumentException("outer velocity " + p.name() + " has " + v.length
                        + " values, the parameter has " + p.size());
            }
            System.arraycopy(v, 0, velocity[i], 0, v.length);
        }
        this.step = step;
    }
}
