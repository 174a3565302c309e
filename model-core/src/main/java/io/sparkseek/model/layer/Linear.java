package io.sparkseek.model.layer;

import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.kernel.CpuGemm;

/**
 * A bias-free linear layer {@code Y = X·Wᵀ} (spec §7 "Linear"), W of shape {@code [out, in]}.
 * Caches X (by reference: the caller's buffer must stay unchanged until backward).
 */
public final class Linear {
    private final Param weight;
    private final int in;
    private final int out;

    private float[] x;      // cached input [n, in]
    private float[] y;      // output buffer [n, out]
    private float[] dx;     // input-gradient buffer [n, in]

    public Linear(Param weight) {
        if (weight.rank() != 2) {
            throw new IllegalArgumentException("Linear weight must be a matrix: " + weight);
        }
        this.weight = weight;
        this.out = weight.rows();
        this.in = weight.cols();
    }

    public Param weight() {
        return weight;
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    /** x [n, in] → y [n, out] (a buffer owned by this layer, valid until the next forward). */
    public float[] forward(ComputePool pool, float[] x, int n) {
        this.x = x;
        y = Buffers.ensure(y, n * out);
        CpuGemm.nt(pool, n, out, in, x, 0, in, weight.w(), 0, in, y, 0, out, false);
        return y;
    }

    /** dy [n, out] → dx [n, in]; dW += dyᵀ·x. */
    public float[] backward(ComputePool pool, float[] dy, int n) {
        dx = Buffers.ensure(dx, n * in);
        CpuGemm.nn(pool, n, in, out, dy, 0, out, weight.w(), 0, in, dx, 0, in, false);
        CpuGemm.tn(pool, out, in, n, dy, 0, out, x, 0, in, weight.g(), 0, in, true);
        return dx;
    }
}
