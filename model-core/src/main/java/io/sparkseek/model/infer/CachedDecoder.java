package io.sparkseek.model.infer;

import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DecoderLayer;
import io.sparkseek.model.layer.DeepSeekModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Incremental DeepSeek-V3 forward (spec §2) with MLA's compressed cache ({@link LatentKvCache}: per layer cKV after
 * kv_a_layernorm [T, rkv] and the rotated shared k_pe [T, dr]); attention by weight absorption
 * ({@link AbsorbedMla}). Prefill is one call with the whole prompt (causal inside the chunk); decoding is one call per
 * token, costing O(T·(rkv+dr)) attention per head and layer instead of a full forward.
 *
 * <p>Everything except attention runs through the model's own layer objects on the new rows only: RMSNorms,
 * projections, dense MLP and {@code MoE.forward} (the training routing: sigmoid, group-limited top-K with
 * {@code e_score_correction_bias}, normalised weights × routed_scaling_factor). FP32 only: a model whose Linears run
 * in FP8 is refused. The model's layers keep their training caches of the last call; this class keeps its own
 * residual stream [m, hidden] and the cache. Not thread-safe; do not run the model's training forward concurrently.
 */
public final class CachedDecoder implements TokenDecoder {
    private final DeepSeekModel model;
    private final ModelConfig cfg;
    private final List<AbsorbedMla> attention = new ArrayList<>();
    private final LatentKvCache cache;

    private float[] h;    // residual stream of the new rows [m, hidden]
    private float[] h1;   // h + attention [m, hidden]

    /** @param model an FP32 model (weights are read live, so later weight changes are seen; the cache is not redone) */
    public CachedDecoder(DeepSeekModel model) {
        if (model.precision().fp8Linears()) {
            throw new IllegalArgumentException("inference runs in FP32 only; load the model with PrecisionPolicy.FP32"
                    + " (got " + model.precision().describe() + ")");
        }
        this.model = model;
        this.cfg = model.config();
        for (DecoderLayer layer : model.layers()) {
            attention.add(new AbsorbedMla(layer.attention(), layer.index(), cfg.numAttentionHeads(),
                    cfg.qkNopeHeadDim(), cfg.qkRopeHeadDim(), cfg.vHeadDim(), cfg.kvLoraRank()));
        }
        this.cache = new LatentKvCache(cfg.numHiddenLayers(), cfg.kvLoraRank(), cfg.qkRopeHeadDim(),
                cfg.maxPositionEmbeddings());
    }

    /** The compressed cache (read-only use: its length and size). */
    public LatentKvCache cache() {
        return cache;
    }

    @Override
    public int length() {
        return cache.length();
    }

    @Override
    public int maxPositions() {
        return cfg.maxPositionEmbeddings();
    }

    @Override
    public int vocabSize() {
        return cfg.vocabSize();
    }

    @Override
    public void reset() {
        cache.clear();
    }

    @Override
    public float[] append(ComputePool pool, int[] tokens) {
        return forward(pool, tokens, false);
    }

    /** Like {@link #append}, but returns the logits of every appended position, [m, vocab]. */
    public float[] appendAll(ComputePool pool, int[] tokens) {
        return forward(pool, tokens, true);
    }

    // tokens [m] → logits [m or 1, vocab]; appends m positions to the cache.
    private float[] forward(ComputePool pool, int[] tokens, boolean allRows) {
        int m = tokens.length;
        if (m < 1) {
            throw new IllegalArgumentException("append needs at least one token");
        }
        int hidden = cfg.hiddenSize();
        int vocab = cfg.vocabSize();
        cache.reserve(m);
        h = ensure(h, m * hidden);
        h1 = ensure(h1, m * hidden);
        float[] table = model.embedding().weight().w();
        for (int t = 0; t < m; t++) {
            int id = tokens[t];
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " at position " + (cache.length() + t)
                        + " is outside the vocabulary [0, " + vocab + ") of config.json");
            }
            System.arraycopy(table, id * hidden, h, t * hidden, hidden);
        }
        int size = m * hidden;
        for (DecoderLayer layer : model.layers()) {
            float[] a = layer.inputNorm().forward(pool, h, m);
            float[] att = attention.get(layer.index()).forward(pool, a, m, cache);
            for (int i = 0; i < size; i++) {
                h1[i] = h[i] + att[i];
            }
            float[] b = layer.postNorm().forward(pool, h1, m);
            float[] ffn = layer.dense() != null
                    ? layer.dense().forward(pool, b, m)
                    : layer.moe().forward(pool, b, m, m);
            for (int i = 0; i < size; i++) {
                h[i] = h1[i] + ffn[i];
            }
        }
        cache.commit(m);
        int rows = allRows ? m : 1;
        float[] last = allRows ? h : Arrays.copyOfRange(h, (m - 1) * hidden, m * hidden);
        float[] z = model.finalNorm().forward(pool, last, rows);
        float[] logits = model.lmHead().forward(pool, z, rows);
        return Arrays.copyOf(logits, rows * vocab);
    }

    private static float[] ensure(float[] buf, int size) {
        return buf != null && buf.length >= size ? buf : new float[size];
    }
}
