package io.sparkseek.jobs.train;

import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What a stage broadcasts to its tasks: the FP32 master weights under their HF names in
 * {@link DeepSeekModel#params()} order, and the routing biases ({@code <layer>.mlp.gate.e_score_correction_bias})
 * in {@link DeepSeekModel#routerBiases()} order. One flat {@code float[]} per tensor (row-major, HF shape), so Java
 * serialization writes 4 bytes a value. Immutable by convention: nobody writes into the arrays after
 * {@link #of}; {@link #loadInto} copies out of them.
 */
public final class ModelState implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String[] names;        // [P] HF parameter names, param order
    private final int[][] shapes;        // [P][rank]
    private final float[][] weights;     // [P][numel] FP32 master values
    private final String[] biasNames;    // [L] one per MoE layer
    private final float[][] biases;      // [L][E]

    private ModelState(String[] names, int[][] shapes, float[][] weights, String[] biasNames, float[][] biases) {
        this.names = names;
        this.shapes = shapes;
        this.weights = weights;
        this.biasNames = biasNames;
        this.biases = biases;
    }

    /** A copy of {@code model}'s master weights and routing biases. */
    public static ModelState of(DeepSeekModel model) {
        List<Param> params = model.params();
        int n = params.size();
        String[] names = new String[n];
        int[][] shapes = new int[n][];
        float[][] weights = new float[n][];
        for (int i = 0; i < n; i++) {
            Param p = params.get(i);
            names[i] = p.name();
            shapes[i] = p.shape();
            weights[i] = p.w().clone();
        }
        Map<String, float[]> rb = model.routerBiases();
        String[] biasNames = new String[rb.size()];
        float[][] biases = new float[rb.size()][];
        int l = 0;
        for (Map.Entry<String, float[]> e : rb.entrySet()) {
            biasNames[l] = e.getKey();
            biases[l++] = e.getValue().clone();
        }
        return new ModelState(names, shapes, weights, biasNames, biases);
    }

    /** Copies these weights and biases into {@code model}; names, order and shapes must match exactly. */
    public void loadInto(DeepSeekModel model) {
        List<Param> params = model.params();
        if (params.size() != names.length) {
            throw new IllegalArgumentException("model state has " + names.length + " tensors, the model has "
                    + params.size() + ": built for another model config");
        }
        for (int i = 0; i < names.length; i++) {
            Param p = params.get(i);
            if (!p.name().equals(names[i]) || !Arrays.equals(p.shape(), shapes[i])) {
                throw new IllegalArgumentException("model state tensor " + i + " is " + names[i]
                        + Arrays.toString(shapes[i]) + ", the model has " + p);
            }
            System.arraycopy(weights[i], 0, p.w(), 0, weights[i].length);
        }
        Map<String, float[]> rb = model.routerBiases();
        if (rb.size() != biasNames.length) {
            throw new IllegalArgumentException("model state has " + biasNames.length + " routing biases, the model has "
                    + rb.size());
        }
        for (int l = 0; l < biasNames.length; l++) {
            float[] b = rb.get(biasNames[l]);
            if (b == null || b.length != biases[l].length) {
                throw new IllegalArgumentException("model state routing bias " + biasNames[l] + "["
                        + biases[l].length + "] does not match the model");
            }
            System.arraycopy(biases[l], 0, b, 0, b.length);
        }
    }

    /** Number of weight tensors (the routing biases not included). */
    public int tensors() {
        return names.length;
    }

    public String name(int i) {
        return names[i];
    }

    /** The FP32 values of tensor {@code i} (live: do not modify). */
    public float[] weights(int i) {
        return weights[i];
    }

    /** The routing bias called {@code name} (live: do not modify), or an error naming it. */
    public float[] bias(String name) {
        for (int l = 0; l < biasNames.length; l++) {
            if (biasNames[l].equals(name)) {
                return biases[l];
            }
        }
        throw new IllegalArgumentException("model state has no routing bias " + name);
    }

    /** Weight values in all tensors (the routing biases not included). */
    public long parameters() {
        long n = 0;
        for (float[] w : weights) {
            n += w.length;
        }
        return n;
    }
}
