package io.sparkseek.model.optim;

import io.sparkseek.model.layer.Param;

import java.util.List;

/** Global-norm gradient clipping (spec §11: max norm 1.0). */
public final class GradClip {
    private GradClip() {
    }

    /** The L2 norm of all gradients together, accumulated in double in parameter order. */
    public static double globalNorm(List<Param> params) {
        double ss = 0;
        for (Param p : params) {
            for (float g : p.g()) {
                ss += (double) g * g;
            }
        }
        return Math.sqrt(ss);
    }

    /**
     * Scales all gradients by {@code maxNorm / norm} when the global norm exceeds {@code maxNorm}
     * ({@code maxNorm <= 0} disables). Returns the norm before clipping.
     */
    public static double clip(List<Param> params, double maxNorm) {
        double norm = globalNorm(params);
        if (maxNorm > 0 && norm > maxNorm) {
            float s = (float) (maxNorm / norm);
            for (Param p : params) {
                float[] g = p.g();
                for (int i = 0; i < g.length; i++) {
                    g[i] *= s;
                }
            }
        }
        return norm;
    }
}
