package io.sparkseek.bench;

import io.sparkseek.model.config.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The FP8 Linear GEMMs of one training step of a model config, with their shapes and how often each runs per step.
 * Derived from the config's numbers (default {@code conf/models/small.json}) at {@value #BATCH} sequences ×
 * {@value #SEQ} tokens (the batch {@code scripts/bench-model} measures), {@code T = 2,048} tokens.
 *
 * <p>Each Linear {@code in → out} has three GEMMs; the shape is written {@code M×N×K} for {@code C[M,N]} with inner
 * dimension K, so each costs {@code 2·M·N·K} flops:
 * <ul>
 *   <li>fprop {@code Y[T,out] = X[T,in]·Wᵀ}: {@code T × out × in}</li>
 *   <li>dgrad {@code dX[T,in] = dY[T,out]·W}: {@code T × in × out}</li>
 *   <li>wgrad {@code dW[out,in] = dYᵀ·X}: {@code out × in × T}</li>
 * </ul>
 * With {@code small.json} (hidden 256, q_lora 128, 4 heads, qk_nope 32, qk_rope 16, v 32, kv_lora 64, intermediate
 * 512, moe_intermediate 128, 16 routed experts top-4, 1 shared, 4 layers of which the first dense) the fprop shapes
 * are:
 * <pre>
 * q_a_proj        2048×128×256   hidden → q_lora                          4 per step (one per layer)
 * q_b_proj        2048×192×128   q_lora → heads·(qk_nope+qk_rope)         4
 * kv_a_proj       2048×80×256    hidden → kv_lora+qk_rope                 4
 * kv_b_proj       2048×256×64    kv_lora → heads·(qk_nope+v)              4
 * o_proj          2048×256×128   heads·v → hidden                         4
 * dense_gate_up   2048×512×256   hidden → intermediate (gate, up)         2 (first_k_dense_replace = 1 layer)
 * dense_down      2048×256×512   intermediate → hidden                    1
 * expert_gate_up  512×128×256    routed expert, T·top_k/experts tokens   96 (3 MoE layers × 16 experts × 2)
 * expert_down     512×256×128                                            48
 * shared_gate_up  2048×128×256   shared experts (same shape as q_a_proj)  6
 * shared_down     2048×256×128   (same shape as o_proj)                   3
 * </pre>
 * Routed experts see {@code 2048·4/16 = 512} tokens on average (the real count varies by expert and step). The
 * router gate, the embedding and {@code lm_head} stay in higher precision (spec §8.1) and are not listed.
 * {@link #BENCHMARKED} names one GEMM per distinct shape (the shared expert's equal q_a_proj's and o_proj's).
 *
 * <p>{@code main} prints this list as JSON for {@code scripts/bench-fp8-gemm} (which weights its step total by
 * {@code perStep}).
 */
public final class GemmShapes {

    /** Sequences per step. */
    public static final int BATCH = 8;
    /** Tokens per sequence. */
    public static final int SEQ = 256;
    /** The shape names {@link Fp8GemmBenchmark} runs by default: one per distinct shape. */
    public static final String BENCHMARKED = "q_a_proj,q_b_proj,kv_a_proj,kv_b_proj,o_proj,dense_gate_up,"
            + "dense_down,expert_gate_up,expert_down";

    /** A Linear {@code in → out} over {@code tokens} rows that runs {@code perStep} times per training step. */
    public record Linear(String name, int tokens, int in, int out, int perStep, String note) {

        /** {@code {M, N, K}} of this Linear's GEMM for op {@code fprop|dgrad|wgrad}. */
        public int[] mnk(String op) {
            return switch (op) {
                case "fprop" -> new int[] {tokens, out, in};
                case "dgrad" -> new int[] {tokens, in, out};
                case "wgrad" -> new int[] {out, in, tokens};
                default -> throw new IllegalArgumentException("op '" + op + "': use fprop, dgrad or wgrad");
            };
        }
    }

    private GemmShapes() {
    }

    /** The config file: system property {@code sparkseek.model}, else {@code conf/models/small.json} under {@code sparkseek.root} (or the working directory). */
    public static Path configPath() {
        String model = System.getProperty("sparkseek.model");
        if (model != null && !model.isBlank()) {
            return Path.of(model);
        }
        String root = System.getProperty("sparkseek.root", ".");
        return Path.of(root, "conf", "models", "small.json");
    }

    /** The Linears of {@link #configPath()} at {@value #BATCH}×{@value #SEQ} tokens. */
    public static Map<String, Linear> load() {
        Path path = configPath();
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException("model config " + path.toAbsolutePath() + " not found; set -Dsparkseek.root="
                    + "<repository> or -Dsparkseek.model=<config.json>");
        }
        try {
            return of(ModelConfig.read(path), BATCH * SEQ);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model config " + path, e);
        }
    }

    /** The FP8 Linears of {@code c} at {@code tokens} tokens per step, in model order. */
    public static Map<String, Linear> of(ModelConfig c, int tokens) {
        int h = c.hiddenSize();
        int heads = c.numAttentionHeads();
        int layers = c.numHiddenLayers();
        int dense = Math.min(layers, c.firstKDenseReplace());
        int moe = layers - dense;
        int expertTokens = (int) ((long) tokens * c.numExpertsPerTok() / c.nRoutedExperts());
        int shared = c.sharedIntermediate();
        List<Linear> list = new ArrayList<>();
        if (c.hasQLora()) {
            list.add(new Linear("q_a_proj", tokens, h, c.qLoraRank(), layers, "hidden -> q_lora"));
            list.add(new Linear("q_b_proj", tokens, c.qLoraRank(), heads * c.qkHeadDim(), layers,
                    "q_lora -> heads*(qk_nope+qk_rope)"));
        } else {
            list.add(new Linear("q_proj", tokens, h, heads * c.qkHeadDim(), layers, "hidden -> heads*qk_head"));
        }
        list.add(new Linear("kv_a_proj", tokens, h, c.kvLoraRank() + c.qkRopeHeadDim(), layers,
                "hidden -> kv_lora+qk_rope"));
        list.add(new Linear("kv_b_proj", tokens, c.kvLoraRank(), heads * (c.qkNopeHeadDim() + c.vHeadDim()), layers,
                "kv_lora -> heads*(qk_nope+v)"));
        list.add(new Linear("o_proj", tokens, heads * c.vHeadDim(), h, layers, "heads*v -> hidden"));
        if (dense > 0) {
            list.add(new Linear("dense_gate_up", tokens, h, c.intermediateSize(), 2 * dense,
                    "hidden -> intermediate (gate and up)"));
            list.add(new Linear("dense_down", tokens, c.intermediateSize(), h, dense, "intermediate -> hidden"));
        }
        if (moe > 0) {
            list.add(new Linear("expert_gate_up", expertTokens, h, c.moeIntermediateSize(),
                    2 * moe * c.nRoutedExperts(), "routed expert, tokens*top_k/experts rows (average)"));
            list.add(new Linear("expert_down", expertTokens, c.moeIntermediateSize(), h, moe * c.nRoutedExperts(),
                    "routed expert, moe_intermediate -> hidden"));
            if (shared > 0) {
                list.add(new Linear("shared_gate_up", tokens, h, shared, 2 * moe, "shared experts (gate and up)"));
                list.add(new Linear("shared_down", tokens, shared, h, moe, "shared experts, down"));
            }
        }
        Map<String, Linear> byName = new LinkedHashMap<>();
        for (Linear l : list) {
            byName.put(l.name(), l);
        }
        return byName;
    }

    /** The Linear named {@code name}; the error lists the names. */
    public static Linear get(String name) {
        Map<String, Linear> all = load();
        Linear l = all.get(name);
        if (l == null) {
            throw new IllegalArgumentException("shape '" + name + "' is not a GEMM of " + configPath() + "; use one of "
                    + all.keySet());
        }
        return l;
    }

    /** Prints the Linears as a JSON array: name, perStep, note, and M, N, K of fprop, dgrad and wgrad. */
    public static void main(String[] args) {
        StringBuilder sb = new StringBuilder("[\n");
        boolean first = true;
        for (Linear l : load().values()) {
            if (!first) {
                sb.append(",\n");
            }
            first = false;
            sb.append(String.format(Locale.ROOT, "  {\"name\": \"%s\", \"perStep\": %d, \"note\": \"%s\"", l.name(),
                    l.perStep(), l.note()));
            for (String op : new String[] {"fprop", "dgrad", "wgrad"}) {
                int[] d = l.mnk(op);
                sb.append(String.format(Locale.ROOT, ", \"%s\": [%d, %d, %d]", op, d[0], d[1], d[2]));
            }
            sb.append('}');
        }
        sb.append("\n]");
        System.out.println(sb);
    }
}
