package io.sparkseek.model.infer;

import io.sparkseek.model.kernel.ComputePool;

/**
 * Runs a causal language model one chunk of tokens at a time and returns next-token logits: the prompt first
 * (prefill), then each sampled token. Implementations: {@link CachedDecoder} (MLA latent cache) and
 * {@link RecomputeDecoder} (full forward of the whole prefix every call, for comparison). Not thread-safe.
 */
public interface TokenDecoder {
    /**
     * Appends {@code tokens} (≥ 1) at positions [length(), length() + tokens.length) and returns the logits that
     * predict the token after the last one, [vocab] (a fresh array).
     */
    float[] append(ComputePool pool, int[] tokens);

    /** Tokens appended so far (the position of the next one). */
    int length();

    /** The longest sequence the model accepts (max_position_embeddings). */
    int maxPositions();

    /** vocab_size: the length of the logits. */
    int vocabSize();

    /** Forgets every appended token. */
    void reset();
}
