package io.sparkseek.model.infer;

import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;

import java.util.Arrays;

/**
 * The uncached reference: every {@link #append} runs the model's training forward ({@link DeepSeekModel#forward},
 * naive per-head MLA, no cache) over the whole prefix and returns the last position's logits. O(T) times the work of
 * {@link CachedDecoder} per token; for {@code generate --no-cache} and for tests. Keeps the prefix [T] only.
 */
public final class RecomputeDecoder implements TokenDecoder {
    private final DeepSeekModel model;
    private int[] prefix = new int[0];

    public RecomputeDecoder(DeepSeekModel model) {
        this.model = model;
    }

    @Override
    public float[] append(ComputePool pool, int[] tokens) {
        float[] all = appendAll(pool, tokens);
        int vocab = vocabSize();
        return Arrays.copyOfRange(all, all.length - vocab, all.length);
    }

    /** Appends, then returns the logits of every position of the whole prefix, [T, vocab]. */
    public float[] appendAll(ComputePool pool, int[] tokens) {
        if (tokens.length < 1) {
            throw new IllegalArgumentException("append needs at least one token");
        }
        int t = prefix.length + tokens.length;
        if (t > maxPositions()) {
            throw new IllegalArgumentException("cannot add " + tokens.length + " tokens after " + prefix.length
                    + ": the sequence would exceed max_position_embeddings = " + maxPositions() + " of config.json");
        }
        // One row of t + 1 ids: the forward's inputs are the first t; the last is a dummy target (its loss is unused).
        int[] row = Arrays.copyOf(prefix, t + 1);
        System.arraycopy(tokens, 0, row, prefix.length, tokens.length);
        model.forward(pool, row, 1, t);
        prefix = Arrays.copyOf(row, t);
        return model.lastLogits();
    }

    @Override
    public int length() {
        return prefix.length;
    }

    @Override
    public int maxPositions() {
        return model.config().maxPositionEmbeddings();
    }

    @Override
    public int vocabSize() {
        return model.config().vocabSize();
    }

    @Override
    public void reset() {
        prefix = new int[0];
    }
}
