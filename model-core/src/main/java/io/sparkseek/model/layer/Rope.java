package io.sparkseek.model.layer;

/**
 * Rotary position embedding on interleaved pairs {@code (x[2i], x[2i+1])} (spec §3.3, the official
 * convention; HF's {@code rope_interleave=true} gives the same dot products). Angle {@code pos·θ_i},
 * {@code θ_i = theta^(−2i/d)}; cos/sin computed in double, stored as FP32. No YaRN (spec §3.5).
 */
public final class Rope {
    private final int dim;
    private final int half;
    private final int maxPos;
    private final float[] cos;   // [maxPos, dim/2]
    private final float[] sin;   // [maxPos, dim/2]

    public Rope(int dim, double theta, int maxPos) {
        if (dim % 2 != 0) {
            throw new IllegalArgumentException("qk_rope_head_dim must be even for RoPE pairs, got " + dim);
        }
        this.dim = dim;
        this.half = dim / 2;
        this.maxPos = maxPos;
        this.cos = new float[maxPos * half];
        this.sin = new float[maxPos * half];
        for (int p = 0; p < maxPos; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * Math.pow(theta, -2.0 * i / dim);
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
    }

    public int dim() {
        return dim;
    }

    public int maxPositions() {
        return maxPos;
    }

    /** Rotates {@code v[off .. off+dim)} in place for position {@code pos}: a' = a·cos − b·sin, b' = a·sin + b·cos. */
    public void rotate(float[] v, int off, int pos) {
        checkPos(pos);
        int base = pos * half;
        for (int i = 0; i < half; i++) {
            float c = cos[base + i];
            float s = sin[base + i];
            float a = v[off + 2 * i];
            float b = v[off + 2 * i + 1];
            v[off + 2 * i] = a * c - b * s;
            v[off + 2 * i + 1] = a * s + b * c;
        }
    }

    /** Backward of {@link #rotate}: the inverse rotation, in place (spec §7 "RoPE"). */
    public void rotateBack(float[] d, int off, int pos) {
        checkPos(pos);
        int base = pos * half;
        for (int i = 0; i < half; i++) {
            float c = cos[base + i];
            float s = sin[base + i];
            float da = d[off + 2 * i];
            float db = d[off + 2 * i + 1];
            d[off + 2 * i] = da * c + db * s;
            d[off + 2 * i + 1] = -da * s + db * c;
        }
    }

    private void checkPos(int pos) {
        if (pos < 0 || pos >= maxPos) {
            throw new IllegalArgumentException("position " + pos + " outside [0, " + maxPos
                    + "): raise max_position_embeddings in config.json or shorten the sequence");
        }
    }
}
