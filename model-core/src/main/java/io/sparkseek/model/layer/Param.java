package io.sparkseek.model.layer;

import java.util.Arrays;

/**
 * A trainable FP32 tensor under its HuggingFace name, with its gradient. Row-major; a Linear weight has shape
 * {@code [out, in]} as in HF and safetensors (spec §0.1).
 */
public final class Param {
    private final String name;
    private final int[] shape;
    private final float[] w;
    private final float[] g;

    public Param(String name, int... shape) {
        this.name = name;
        this.shape = shape.clone();
        long n = 1;
        for (int d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("parameter " + name + " has a non-positive dimension: "
                        + Arrays.toString(shape));
            }
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("parameter " + name + " is too large for one array: " + n);
        }
        this.w = new float[(int) n];
        this.g = new float[(int) n];
    }

    public String name() {
        return name;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rows() {
        return shape[0];
    }

    /** Columns of a matrix; 1 for a vector. */
    public int cols() {
        return shape.length > 1 ? shape[1] : 1;
    }

    public int rank() {
        return shape.length;
    }

    public int size() {
        return w.length;
    }

    /** The FP32 values (master weights). */
    public float[] w() {
        return w;
    }

    /** The gradient accumulated by backward passes since the last {@link #zeroGrad()}. */
    public float[] g() {
        return g;
    }

    public void zeroGrad() {
        Arrays.fill(g, 0f);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
