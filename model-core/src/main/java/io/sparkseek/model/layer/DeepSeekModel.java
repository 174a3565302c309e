package io.sparkseek.model.layer;

import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.kernel.ComputePool;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The DeepSeek-V3 decoder (spec §2): embedding → decoder layers → final RMSNorm → {@code lm_head} → mean
 * next-token cross-entropy, plus the optional sequence-wise balance loss (spec §6.2). This class only
 * sequences the layers; each layer owns its forward and backward.
 *
 * <p>Input is {@code batch} rows of {@code seqLen + 1} token ids: inputs are the first {@code seqLen} of a row,
 * targets the last {@code seqLen} (ARCHITECTURE §4, {@code --tokens}). Packed documents share one causal
 * mask per row (spec §3.2). Not thread-safe: one model instance per task.
 */
public final class DeepSeekModel {
    private final ModelConfig cfg;
    private final Embedding embedding;
    private final List<DecoderLayer> layers = new ArrayList<>();
    private final RmsNorm finalNorm;
    private final Linear lmHead;
    private final CrossEntropy crossEntropy = new CrossEntropy();
    private final List<Param> params = new ArrayList<>();
    private final Map<String, Param> byName = new LinkedHashMap<>();
    private final Map<String, float[]> routerBiases = new LinkedHashMap<>();
    private final PrecisionPolicy policy;

    private int batch;
    private int seqLen;
    private int[] inputs;
    private int[] targets;
    private double lastCe;
    private double lastBalance;
    private float[] dh;
    private float[] logits;   // lm_head output of the last forward [n, vocab] (owned by lmHead)

    /** An FP32 model; {@code balanceAlpha} as below. */
    public DeepSeekModel(ModelConfig cfg, float balanceAlpha) {
        this(cfg, balanceAlpha, PrecisionPolicy.FP32);
    }

    /**
     * @param balanceAlpha weight α of the complementary sequence-wise balance loss (0 disables; spec default 1e-4)
     * @param policy       which Linears run in FP8 and on which backend (spec §8.1)
     */
    public DeepSeekModel(ModelConfig cfg, float balanceAlpha, PrecisionPolicy policy) {
        this.cfg = cfg;
        this.policy = policy;
        int hidden = cfg.hiddenSize();
        embedding = new Embedding(new Param("model.embed_tokens.weight", cfg.vocabSize(), hidden));
        Rope rope = new Rope(cfg.qkRopeHeadDim(), cfg.ropeTheta(), cfg.maxPositionEmbeddings());
        int qLora = cfg.qLoraRank() == null ? 0 : cfg.qLoraRank();
        for (int l = 0; l < cfg.numHiddenLayers(); l++) {
            String prefix = "model.layers." + l;
            Mla mla = new Mla(prefix + ".self_attn", hidden, cfg.numAttentionHeads(), qLora, cfg.kvLoraRank(),
                    cfg.qkNopeHeadDim(), cfg.qkRopeHeadDim(), cfg.vHeadDim(), rope, policy);
            DecoderLayer layer;
            if (l < cfg.firstKDenseReplace()) {
                layer = new DecoderLayer(l, hidden, cfg.rmsNormEps(), mla,
                        new SwiGluMlp(prefix + ".mlp", hidden, cfg.intermediateSize(), policy), null);
            } else {
                MoeShape shape = new MoeShape(hidden, cfg.moeIntermediateSize(), cfg.nSharedExperts(),
                        cfg.nRoutedExperts(), cfg.numExpertsPerTok(), cfg.nGroup(), cfg.topkGroup(),
                        cfg.normTopkProb(), (float) cfg.routedScalingFactor());
                MoE moe = new MoE(prefix + ".mlp", shape, balanceAlpha, policy);
                layer = new DecoderLayer(l, hidden, cfg.rmsNormEps(), mla, null, moe);
                routerBiases.put(prefix + ".mlp.gate.e_score_correction_bias", moe.router().bias());
            }
            layers.add(layer);
        }
        finalNorm = new RmsNorm(new Param("model.norm.weight", hidden), cfg.rmsNormEps());
        lmHead = new Linear(new Param("lm_head.weight", cfg.vocabSize(), hidden));   // FP32 always (spec §8.1)

        params.add(embedding.weight());
        for (DecoderLayer layer : layers) {
            params.addAll(layer.params());
        }
        params.add(finalNorm.weight());
        params.add(lmHead.weight());
        for (Param p : params) {
            if (byName.put(p.name(), p) != null) {
                throw new IllegalStateException("duplicate parameter name " + p.name());
            }
        }
    }

    /** Which Linears run in FP8, on which backend. */
    public PrecisionPolicy precision() {
        return policy;
    }

    public ModelConfig config() {
        return cfg;
    }

    /** Trainable parameters under their HF names, in HF order (spec §9.2). */
    public List<Param> params() {
        return Collections.unmodifiableList(params);
    }

    /** The parameter called {@code name}, or an error naming it. */
    public Param param(String name) {
        Param p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("the model has no parameter " + name);
        }
        return p;
    }

    /** Live routing-bias arrays ({@code e_score_correction_bias}) by HF name: buffers, never trained by gradient. */
    public Map<String, float[]> routerBiases() {
        return Collections.unmodifiableMap(routerBiases);
    }

    public List<DecoderLayer> layers() {
        return Collections.unmodifiableList(layers);
    }

    /** {@code model.embed_tokens}. */
    public Embedding embedding() {
        return embedding;
    }

    /** {@code model.norm}, the final RMSNorm. */
    public RmsNorm finalNorm() {
        return finalNorm;
    }

    /** {@code lm_head} (always FP32). */
    public Linear lmHead() {
        return lmHead;
    }

    /**
     * A copy of the logits of the last {@link #forward}, [batch·seqLen, vocab] (row b·seqLen + t = position t of
     * row b). Used as the uncached reference of inference.
     */
    public float[] lastLogits() {
        if (logits == null) {
            throw new IllegalStateException("lastLogits() called before forward()");
        }
        return java.util.Arrays.copyOf(logits, batch * seqLen * cfg.vocabSize());
    }

    /**
     * Initialisation (spec §11 / HF): matrices N(0, initializer_range), norm weights 1, routing biases 0.
     * Each tensor draws from its own {@link Random} seeded by (seed, name), so the result does not depend on
     * the order tensors are visited in.
     */
    public void initialize(long seed) {
        double std = cfg.initializerRange();
        for (Param p : params) {
            float[] w = p.w();
            if (p.rank() == 1) {
                java.util.Arrays.fill(w, 1f);
            } else {
                Random rnd = new Random(seed * 0x9E3779B97F4A7C15L + p.name().hashCode());
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) (rnd.nextGaussian() * std);
                }
            }
        }
        for (float[] b : routerBiases.values()) {
            java.util.Arrays.fill(b, 0f);
        }
    }

    public void zeroGrad() {
        for (Param p : params) {
            p.zeroGrad();
        }
    }

    /**
     * Forward over {@code batch} rows of {@code seqLen + 1} tokens. Returns the training loss: mean
     * cross-entropy plus the balance loss (when α &gt; 0). Caches what {@link #backward} needs.
     */
    public double forward(ComputePool pool, int[] rows, int batch, int seqLen) {
        if (batch < 1 || seqLen < 1) {
            throw new IllegalArgumentException("batch and seq_len must be >= 1, got " + batch + " and " + seqLen);
        }
        if (rows.length < batch * (seqLen + 1)) {
            throw new IllegalArgumentException("need " + batch + " rows of " + (seqLen + 1) + " tokens = "
                    + batch * (seqLen + 1) + " ids, got " + rows.length);
        }
        if (seqLen > cfg.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("seq_len " + seqLen + " exceeds max_position_embeddings "
                    + cfg.maxPositionEmbeddings() + " of config.json");
        }
        this.batch = batch;
        this.seqLen = seqLen;
        int n = batch * seqLen;
        inputs = layersEnsure(inputs, n);
        targets = layersEnsure(targets, n);
        for (int b = 0; b < batch; b++) {
            System.arraycopy(rows, b * (seqLen + 1), inputs, b * seqLen, seqLen);
            System.arraycopy(rows, b * (seqLen + 1) + 1, targets, b * seqLen, seqLen);
        }
        float[] h = embedding.forward(inputs, n);
        double balance = 0;
        for (DecoderLayer layer : layers) {
            h = layer.forward(pool, h, batch, seqLen);
            if (layer.moe() != null) {
                balance += layer.moe().balanceLoss();
            }
        }
        logits = lmHead.forward(pool, finalNorm.forward(pool, h, n), n);
        lastCe = crossEntropy.forward(pool, logits, targets, n, cfg.vocabSize());
        lastBalance = balance;
        return lastCe + lastBalance;
    }

    private static int[] layersEnsure(int[] a, int n) {
        return a != null && a.length == n ? a : new int[n];
    }

    /** Backward of the last {@link #forward}: accumulates d(loss)/d(param) into every {@link Param#g()}. */
    public void backward(ComputePool pool) {
        if (inputs == null) {
            throw new IllegalStateException("backward() called before forward()");
        }
        int n = batch * seqLen;
        float[] dz = lmHead.backward(pool, crossEntropy.backward(), n);
        float[] d = finalNorm.backward(pool, dz, n);
        for (int l = layers.size() - 1; l >= 0; l--) {
            d = layers.get(l).backward(pool, d);
        }
        embedding.backward(d, n);
    }

    /** Mean next-token cross-entropy of the last forward. */
    public double lastCrossEntropy() {
        return lastCe;
    }

    /** Sum over MoE layers of the sequence-wise balance loss of the last forward (0 when α = 0). */
    public double lastBalanceLoss() {
        return lastBalance;
    }

    /** Tokens in the last forward (batch · seqLen). */
    public int lastTokens() {
        return batch * seqLen;
    }

    /** Per-expert assignment counts of the last forward, keyed by each MoE layer's HF prefix ("model.layers.3.mlp"). */
    public Map<String, int[]> expertLoads() {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (DecoderLayer layer : layers) {
            if (layer.moe() != null) {
                out.put("model.layers." + layer.index() + ".mlp", layer.moe().load().clone());
            }
        }
        return out;
    }

    /** Selected experts of the last forward per MoE layer: int[n·K], row t = token t's K choices. */
    public Map<String, int[]> routingSelections() {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (DecoderLayer layer : layers) {
            if (layer.moe() != null) {
                out.put("model.layers." + layer.index() + ".mlp",
                        java.util.Arrays.copyOf(layer.moe().router().topIndex(), lastTokens() * cfg.numExpertsPerTok()));
            }
        }
        return out;
    }
}
