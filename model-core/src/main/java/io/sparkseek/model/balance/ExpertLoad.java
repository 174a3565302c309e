package io.sparkseek.model.balance;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Expert loads (token-to-expert assignment counts) of every MoE layer, summed over the forwards of one step
 * (spec §6.1: "expert load on the whole batch of each training step"). Mergeable, so partial counts from
 * several workers add up to the batch's counts.
 */
public final class ExpertLoad implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int experts;
    private final long[][] counts;   // [layer][expert]
    private final long[] tokens;     // [layer]

    /** Counts for {@code layers} MoE layers of {@code experts} routed experts each, all zero. */
    public ExpertLoad(int layers, int experts) {
        if (layers < 1 || experts < 1) {
            throw new IllegalArgumentException("ExpertLoad needs layers >= 1 and experts >= 1, got "
                    + layers + ", " + experts);
        }
        this.experts = experts;
        this.counts = new long[layers][experts];
        this.tokens = new long[layers];
    }

    public int layers() {
        return counts.length;
    }

    public int experts() {
        return experts;
    }

    /** Adds one forward's per-expert counts (e.g. {@code MoE.load()}) of MoE layer {@code layer} over {@code tokens}. */
    public void add(int layer, int[] load, long tokens) {
        if (load.length != experts) {
            throw new IllegalArgumentException("load of layer " + layer + " has " + load.length
                    + " entries, expected " + experts);
        }
        if (tokens < 0) {
            throw new IllegalArgumentException("negative token count " + tokens);
        }
        long[] c = counts[layer];
        for (int i = 0; i < experts; i++) {
            c[i] += load[i];
        }
        this.tokens[layer] += tokens;
    }

    /** Adds another ExpertLoad of the same shape into this one. */
    public void merge(ExpertLoad other) {
        if (other.layers() != layers() || other.experts != experts) {
            throw new IllegalArgumentException("cannot merge ExpertLoad of " + other.layers() + "x" + other.experts
                    + " into " + layers() + "x" + experts);
        }
        for (int l = 0; l < counts.length; l++) {
            for (int i = 0; i < experts; i++) {
                counts[l][i] += other.counts[l][i];
            }
            tokens[l] += other.tokens[l];
        }
    }

    /** Per-expert counts of MoE layer {@code layer} (live). */
    public long[] counts(int layer) {
        return counts[layer];
    }

    /** Tokens routed through MoE layer {@code layer}. */
    public long tokens(int layer) {
        return tokens[layer];
    }

    /** Tokens routed through the first MoE layer (every layer sees the same tokens). */
    public long tokens() {
        return tokens[0];
    }

    public void clear() {
        for (long[] c : counts) {
            Arrays.fill(c, 0L);
        }
        Arrays.fill(tokens, 0L);
    }
}
