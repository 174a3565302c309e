package io.sparkseek.model.layer;

import io.sparkseek.model.kernel.ComputePool;

/**
 * RMSNorm {@code y = w ⊙ x · (mean(x²) + eps)^(-1/2)} over the last dimension (spec §2, backward §7).
 * Caches x (by reference) and the per-row factor r.
 */
public final class RmsNorm {
    private static final int MIN_ROWS_PER_TASK = 16;

    private final Param weight;
    private final int dim;
    private final float eps;

    private float[] x;     // cached input [n, dim]
    private float[] r;     // cached 1/rms per row [n]
    private float[] y;     // output [n, dim]
    private float[] dx;    // input gradient [n, dim]

    public RmsNorm(Param weight, double eps) {
        if (weight.rank() != 1) {
            throw new IllegalArgumentException("RMSNorm weight must be a vector: " + weight);
        }
        this.weight = weight;
        this.dim = weight.size();
        this.eps = (float) eps;
    }

    public Param weight() {
        return weight;
    }

    /** x [n, dim] → y [n, dim]; caches x and r. */
    public float[] forward(ComputePool pool, float[] x, int n) {
        this.x = x;
        r = Buffers.ensure(r, n);
        y = Buffers.ensure(y, n * dim);
        float[] w = weight.w();
        pool.parallelFor(n, MIN_ROWS_PER_TASK, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int o = t * dim;
                double ss = 0;
                for (int j = 0; j < dim; j++) {
                    ss += (double) x[o + j] * x[o + j];
                }
                float rt = (float) (1.0 / Math.sqrt(ss / dim + eps));
                r[t] = rt;
                for (int j = 0; j < dim; j++) {
                    y[o + j] = w[j] * (x[o + j] * rt);
                }
            }
        });
        return y;
    }

    /** dy [n, dim] → dx [n, dim]; dw += Σ_t dy ⊙ x̂. */
    public float[] backward(ComputePool pool, float[] dy, int n) {
        dx = Buffers.ensure(dx, n * dim);
        float[] w = weight.w();
        float[] dw = weight.g();
        // dw is a reduction over tokens: one thread, fixed order (deterministic).
        for (int t = 0; t < n; t++) {
            int o = t * dim;
            float rt = r[t];
            for (int j = 0; j < dim; j++) {
                dw[j] += dy[o + j] * (x[o + j] * rt);
            }
        }
        pool.parallelFor(n, MIN_ROWS_PER_TASK, (lo, hi) -> {
            for (int t = lo; t < hi; t++) {
                int o = t * dim;
                float rt = r[t];
                double dot = 0;
                for (int j = 0; j < dim; j++) {
                    dot += (double) (dy[o + j] * w[j]) * (x[o + j] * rt);
                }
                float mean = (float) (dot / dim);
                for (int j = 0; j < dim; j++) {
                    float xhat = x[o + j] * rt;
                    dx[o + j] = rt * (dy[o + j] * w[j] - xhat * mean);
                }
            }
        });
        return dx;
    }
}
