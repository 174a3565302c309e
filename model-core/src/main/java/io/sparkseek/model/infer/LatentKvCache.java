package io.sparkseek.model.infer;

import java.util.Arrays;

/**
 * MLA's compressed key/value cache (spec §3.2; DeepSeek-V3 report §2.1.1 "only the blue-boxed vectors need to be
 * cached"): per layer and position only
 * <pre>
 * cKV  = RMSNorm_kva(kv_a_proj_with_mqa(x)[0, rkv))   [T, rkv]  (after kv_a_layernorm)
 * k_pe = RoPE_pos(kv_a_proj_with_mqa(x)[rkv, rkv+dr)) [T, dr]   (rotated, shared by all heads)
 * </pre>
 * i.e. {@code rkv + dr} floats per layer and token instead of the {@code nh·(dn+dr+dv)} of per-head keys and values
 * (HF's cache); no per-head key or value is ever stored. Rows are appended in position order; storage grows by
 * doubling up to {@code capacity} (max_position_embeddings). FP32. Not thread-safe.
 */
public final class LatentKvCache {
    private static final int INITIAL_ROWS = 64;

    private final int layers;
    private final int rkv;
    private final int dr;
    private final int capacity;
    private final float[][] ckv;   // per layer [rows, rkv]
    private final float[][] kpe;   // per layer [rows, dr]
    private int rows;              // allocated rows per layer
    private int length;            // committed positions

    /**
     * @param layers   decoder layers (num_hidden_layers)
     * @param rkv      kv_lora_rank
     * @param dr       qk_rope_head_dim
     * @param capacity the most positions it can hold (max_position_embeddings)
     */
    public LatentKvCache(int layers, int rkv, int dr, int capacity) {
        if (layers < 1 || rkv < 1 || dr < 1 || capacity < 1) {
            throw new IllegalArgumentException("cache dimensions must be >= 1: layers " + layers + ", kv_lora_rank "
                    + rkv + ", qk_rope_head_dim " + dr + ", max positions " + capacity);
        }
        this.layers = layers;
        this.rkv = rkv;
        this.dr = dr;
        this.capacity = capacity;
        this.ckv = new float[layers][];
        this.kpe = new float[layers][];
        this.rows = Math.min(INITIAL_ROWS, capacity);
        for (int l = 0; l < layers; l++) {
            ckv[l] = new float[rows * rkv];
            kpe[l] = new float[rows * dr];
        }
    }

    /** Positions held (the position of the next token). */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    public int kvLoraRank() {
        return rkv;
    }

    public int ropeDim() {
        return dr;
    }

    /** Floats held per token over all layers: layers·(rkv + dr). */
    public int floatsPerToken() {
        return layers * (rkv + dr);
    }

    /** Makes room for positions [length, length + m); the caller writes each layer's rows, then {@link #commit}s. */
    void reserve(int m) {
        int need = length + m;
        if (need > capacity) {
            throw new IllegalArgumentException("cannot add " + m + " tokens after " + length + ": the sequence would"
                    + " exceed max_position_embeddings = " + capacity + " of config.json");
        }
        if (need > rows) {
            int grown = (int) Math.min(capacity, Math.max(need, 2L * rows));
            for (int l = 0; l < layers; l++) {
                ckv[l] = Arrays.copyOf(ckv[l], grown * rkv);
                kpe[l] = Arrays.copyOf(kpe[l], grown * dr);
            }
            rows = grown;
        }
    }

    /** Layer {@code l}'s normalised latents, row t at {@code t·rkv} (valid rows: [0, length + reserved)). */
    float[] latents(int l) {
        return ckv[l];
    }

    /** Layer {@code l}'s rotated rope keys, row t at {@code t·dr}. */
    float[] ropeKeys(int l) {
        return kpe[l];
    }

    /** The reserved {@code m} positions are now part of the sequence. */
    void commit(int m) {
        length += m;
    }

    /** Forgets every position (storage is kept). */
    public void clear() {
        length = 0;
    }
}
