package io.sparkseek.model.infer;

import io.sparkseek.model.kernel.ComputePool;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * The generation loop: prefill the prompt, then sample a token, feed it back, repeat. Stops at the first of
 * <ul>
 *   <li>{@link StopReason#EOS}: the sampled token is the EOS id (it is not added to the output);</li>
 *   <li>{@link StopReason#MAX_NEW_TOKENS}: {@code maxNewTokens} tokens were generated;</li>
 *   <li>{@link StopReason#MAX_POSITIONS}: prompt + generated tokens fill max_position_embeddings.</li>
 * </ul>
 * The last generated token is never fed back (nothing would use its logits). A prompt that leaves no room for one
 * new token is an error naming both lengths.
 */
public final class Generator {
    /** Why generation stopped. */
    public enum StopReason {
        EOS, MAX_NEW_TOKENS, MAX_POSITIONS;

        /** Lower-case name for output ("eos", "max_new_tokens", "max_positions"). */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * What one generation produced and how long it took.
     *
     * @param tokens       generated ids, EOS excluded
     * @param prefillNanos the prompt's forward (and its logits)
     * @param decodeNanos  the rest: sampling every token and feeding back all but the last
     * @param decodeSteps  tokens fed back (one forward each)
     */
    public record Result(int[] tokens, StopReason stop, int promptTokens, long prefillNanos, long decodeNanos,
                         int decodeSteps) {
        /** Fed-back tokens per second of decoding (0 when none was fed back). */
        public double decodeTokensPerSecond() {
            return decodeSteps == 0 || decodeNanos == 0 ? 0.0 : decodeSteps * 1e9 / decodeNanos;
        }
    }

    private final TokenDecoder decoder;
    private final int eosId;

    /** @param eosId the id that ends generation, or −1 for none */
    public Generator(TokenDecoder decoder, int eosId) {
        this.decoder = decoder;
        this.eosId = eosId;
    }

    /**
     * Generates from {@code prompt} (decoder reset first). {@code onToken} receives each new id as soon as it is
     * chosen (not the EOS).
     */
    public Result generate(ComputePool pool, int[] prompt, int maxNewTokens, Sampler sampler, IntConsumer onToken) {
        int maxPos = decoder.maxPositions();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give at least one token");
        }
        if (prompt.length >= maxPos) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens, but"
                    + " max_position_embeddings is " + maxPos + ": no room for a new token; shorten the prompt to at most " + (maxPos - 1)
                    + " tokens");
        }
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        }
        int vocab = decoder.vocabSize();
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= vocab) {
                throw new IllegalArgumentException("prompt token " + i + " is id " + prompt[i]
                        + ", outside the model's vocabulary [0, " + vocab + ")");
            }
        }
        decoder.reset();
        long t0 = System.nanoTime();
        float[] logits = decoder.append(pool, prompt);
        long t1 = System.nanoTime();
        int[] out = new int[Math.min(maxNewTokens, maxPos - prompt.length)];
        int n = 0;
        int steps = 0;
        StopReason stop;
        while (true) {
            if (n == maxNewTokens) {
                stop = StopReason.MAX_NEW_TOKENS;
                break;
            }
            if (prompt.length + n == maxPos) {
                stop = StopReason.MAX_POSITIONS;
                break;
            }
            if (n > 0) {
                logits = decoder.append(pool, new int[] {out[n - 1]});
                steps++;
            }
            int id = sampler.next(logits);
            if (id == eosId) {
                stop = StopReason.EOS;
                break;
            }
            out[n++] = id;
            onToken.accept(id);
        }
        long t2 = System.nanoTime();
        return new Result(Arrays.copyOf(out, n), stop, prompt.length, t1 - t0, t2 - t1, steps);
    }
}
