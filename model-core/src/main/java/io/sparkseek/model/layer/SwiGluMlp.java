package io.sparkseek.model.layer;

import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.kernel.VecMath;

import java.util.List;

/**
 * SwiGLU MLP {@code y = down_proj(SiLU(gate_proj(x)) ⊙ up_proj(x))} (spec §2; backward spec §7 "SiLU/SwiGLU").
 * Used for the dense MLP, every routed expert and the shared expert. No biases.
 *
 * <p>Caches the input x by reference (through its Linears): the caller's buffer must stay unchanged until
 * backward. Returned arrays are buffers owned by this layer, valid until its next forward/backward and possibly
 * longer than {@code n} rows.
 */
public final class SwiGluMlp {
    private final int hidden;
    private final int inter;
    private final Linear gate;
    private final Linear up;
    private final Linear down;

    private float[] a;      // gate_proj(x) [n, inter], owned by `gate`
    private float[] u;      // up_proj(x) [n, inter], owned by `up`
    private float[] sig;    // σ(a) [n, inter], reused by backward
    private float[] h;      // SiLU(a) ⊙ u [n, inter]
    private float[] da;     // [n, inter]
    private float[] du;     // [n, inter]
    private float[] dx;     // [n, hidden]

    /** An FP32 MLP. */
    public SwiGluMlp(String prefix, int hidden, int inter) {
        this(prefix, hidden, inter, PrecisionPolicy.FP32);
    }

    /** gate/up/down run in FP8 when the policy says so (spec §8.1). */
    public SwiGluMlp(String prefix, int hidden, int inter, PrecisionPolicy policy) {
        this.hidden = hidden;
        this.inter = inter;
        this.gate = new Linear(new Param(prefix + ".gate_proj.weight", inter, hidden), policy, Linear.InputCache.E4M3);
        this.up = new Linear(new Param(prefix + ".up_proj.weight", inter, hidden), policy, Linear.InputCache.E4M3);
        this.down = new Linear(new Param(prefix + ".down_proj.weight", hidden, inter), policy, Linear.InputCache.E4M3);
    }

    /** gate_proj, up_proj, down_proj weights, in that order. */
    public List<Param> params() {
        return List.of(gate.weight(), up.weight(), down.weight());
    }

    public int hidden() {
        return hidden;
    }

    public int inter() {
        return inter;
    }

    /** x [n, hidden] → y [n, hidden]; caches x (by reference), a = gate(x), u = up(x) and h [n, inter]. */
    public float[] forward(ComputePool pool, float[] x, int n) {
        a = gate.forward(pool, x, n);
        u = up.forwardOnInputOf(pool, gate, n);   // same x: quantized once in FP8
        h = Buffers.ensure(h, n * inter);
        sig = Buffers.ensure(sig, n * inter);
        activate(pool, n, 0, a, u, sig, h);
        return down.forward(pool, h, n);
    }

    /** dy [n, hidden] → dx [n, hidden]; dW of gate/up/down += their gradients; uses the forward's a, u, h. */
    public float[] backward(ComputePool pool, float[] dy, int n) {
        float[] dh = down.backward(pool, dy, n);
        da = Buffers.ensure(da, n * inter);
        du = Buffers.ensure(du, n * inter);
        activationGradients(pool, n, 0, a, u, sig, dh, da, du);
        float[] dxGate = gate.backward(pool, da, n);
        float[] dxUp = up.backward(pool, du, n);
        dx = Buffers.ensure(dx, n * hidden);
        sum(pool, n, hidden, 0, dxGate, dxUp, dx);
        return dx;
    }

    /** Whether the Linears run in FP8 (then only {@link #forward}/{@link #backward} on whole buffers work). */
    boolean isFp8() {
        return gate.isFp8();
    }

    /**
     * As {@link #forward}, bit for bit, on rows [r0, r0 + n) of a MoE layer's shared expert buffers (FP32 only):
     * b.x → b.y; caches b.x (through gate/up), b.a, b.u, b.sig and b.h (through down) on those rows.
     */
    void forwardRows(ComputePool pool, ExpertBuffers b, int r0, int n) {
        int ho = r0 * hidden;
        int io = r0 * inter;
        gate.forwardAt(pool, b.x, ho, n, b.a, io);
        up.forwardAt(pool, b.x, ho, n, b.u, io);
        activate(pool, n, io, b.a, b.u, b.sig, b.h);
        down.forwardAt(pool, b.h, io, n, b.y, ho);
    }

    /**
     * As {@link #backward}, bit for bit, on rows [r0, r0 + n) of the buffers of {@link #forwardRows}: b.dy → b.dx;
     * dW of gate/up/down += their gradients. Uses b.dh, b.da and, once down_proj has read it, b.dy as scratch.
     */
    void backwardRows(ComputePool pool, ExpertBuffers b, int r0, int n) {
        int ho = r0 * hidden;
        int io = r0 * inter;
        down.backwardAt(pool, b.dy, ho, n, b.dh, io);
        activationGradients(pool, n, io, b.a, b.u, b.sig, b.dh, b.da, b.dh);   // du in place of dh
        gate.backwardAt(pool, b.da, io, n, b.dx, ho);
        up.backwardAt(pool, b.dh, io, n, b.dy, ho);
        sum(pool, n, hidden, ho, b.dx, b.dy, b.dx);
    }

    /** sig = σ(a), h = SiLU(a) ⊙ u on rows [0, n) of [·, inter] arrays from element {@code off}. */
    private void activate(ComputePool pool, int n, int off, float[] a, float[] u, float[] sig, float[] h) {
        pool.parallelFor(n, 1, (lo, hi) -> {
            VecMath.sigmoid(a, off + lo * inter, sig, off + lo * inter, (hi - lo) * inter);
            for (int i = off + lo * inter, end = off + hi * inter; i < end; i++) {
                h[i] = a[i] * sig[i] * u[i];
            }
        });
    }

    /** da and du from dh = ∂L/∂h on rows [0, n) from element {@code off}; du may be dh itself (read first). */
    private void activationGradients(ComputePool pool, int n, int off, float[] a, float[] u, float[] sigma,
                                     float[] dh, float[] da, float[] du) {
        pool.parallelFor(n, 1, (lo, hi) -> {
            for (int i = off + lo * inter, end = off + hi * inter; i < end; i++) {
                float ai = a[i];
                float sig = sigma[i];
                float dhi = dh[i];
                da[i] = dhi * u[i] * (sig * (1f + ai * (1f - sig)));
                du[i] = dhi * (ai * sig);
            }
        });
    }

    /** out = p + q on rows [0, n) of [·, width] arrays from element {@code off} (out may be p). */
    private static void sum(ComputePool pool, int n, int width, int off, float[] p, float[] q, float[] out) {
        pool.parallelFor(n, 1, (lo, hi) -> {
            for (int i = off + lo * width, end = off + hi * width; i < end; i++) {
                out[i] = p[i] + q[i];
            }
        });
    }

    static float sigmoid(float v) {
        return VecMath.sigmoid(v);
    }
}
