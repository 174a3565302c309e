package io.sparkseek.model.layer;

import io.sparkseek.model.kernel.ComputePool;

import java.util.ArrayList;
import java.util.List;

/**
 * One pre-norm decoder block (spec §2 step 2):
 * {@code h' = h + MLA(RMSNorm_in(h))}, {@code h'' = h' + FFN(RMSNorm_post(h'))}, where FFN is a dense SwiGLU
 * ({@code layer < first_k_dense_replace}) or DeepSeekMoE. Owns its residual buffers.
 */
public final class DecoderLayer {
    private final int index;
    private final int hidden;
    private final RmsNorm inputNorm;
    private final Mla attention;
    private final RmsNorm postNorm;
    private final SwiGluMlp dense;   // null in a MoE layer
    private final MoE moe;           // null in a dense layer
    private final List<Param> params = new ArrayList<>();

    private int batch;
    private int seqLen;
    private float[] h1;   // h + attention  [n, hidden]
    private float[] h2;   // h1 + ffn       [n, hidden]
    private float[] dh1;  // [n, hidden]
    private float[] dh;   // [n, hidden]

    DecoderLayer(int index, int hidden, double rmsEps, Mla attention, SwiGluMlp dense, MoE moe) {
        if ((dense == null) == (moe == null)) {
            throw new IllegalArgumentException("layer " + index + " needs exactly one of a dense MLP or a MoE");
        }
        String prefix = "model.layers." + index;
        this.index = index;
        this.hidden = hidden;
        this.inputNorm = new RmsNorm(new Param(prefix + ".input_layernorm.weight", hidden), rmsEps);
        this.attention = attention;
        this.postNorm = new RmsNorm(new Param(prefix + ".post_attention_layernorm.weight", hidden), rmsEps);
        this.dense = dense;
        this.moe = moe;
        params.add(inputNorm.weight());
        params.addAll(attention.params());
        params.add(postNorm.weight());
        params.addAll(dense != null ? dense.params() : moe.params());
    }

    public int index() {
        return index;
    }

    /** Parameters in HF order (spec §9.2). */
    public List<Param> params() {
        return params;
    }

    /** The MoE block, or null for a dense layer. */
    public MoE moe() {
        return moe;
    }

    /** The dense SwiGLU MLP, or null for a MoE layer. */
    public SwiGluMlp dense() {
        return dense;
    }

    /** {@code input_layernorm}. */
    public RmsNorm inputNorm() {
        return inputNorm;
    }

    /** {@code post_attention_layernorm}. */
    public RmsNorm postNorm() {
        return postNorm;
    }

    /** {@code self_attn}. */
    public Mla attention() {
        return attention;
    }

    /** h [batch·T, hidden] → h'' [batch·T, hidden] (a buffer owned by this layer). */
    public float[] forward(ComputePool pool, float[] h, int batch, int seqLen) {
        this.batch = batch;
        this.seqLen = seqLen;
        int n = batch * seqLen;
        int size = n * hidden;
        float[] att = attention.forward(pool, inputNorm.forward(pool, h, n), batch, seqLen);
        h1 = Buffers.ensure(h1, size);
        for (int i = 0; i < size; i++) {
            h1[i] = h[i] + att[i];
        }
        float[] b = postNorm.forward(pool, h1, n);
        float[] ffn = dense != null ? dense.forward(pool, b, n) : moe.forward(pool, b, n, seqLen);
        h2 = Buffers.ensure(h2, size);
        for (int i = 0; i < size; i++) {
            h2[i] = h1[i] + ffn[i];
        }
        return h2;
    }

    /** dh'' → dh, accumulating every parameter gradient of the block. */
    public float[] backward(ComputePool pool, float[] dOut) {
        int n = batch * seqLen;
        int size = n * hidden;
        float[] dFfn = dense != null ? dense.backward(pool, dOut, n) : moe.backward(pool, dOut, n);
        float[] dB = postNorm.backward(pool, dFfn, n);
        dh1 = Buffers.ensure(dh1, size);
        for (int i = 0; i < size; i++) {
            dh1[i] = dOut[i] + dB[i];
        }
        float[] dA = inputNorm.backward(pool, attention.backward(pool, dh1), n);
        dh = Buffers.ensure(dh, size);
        for (int i = 0; i < size; i++) {
            dh[i] = dh1[i] + dA[i];
        }
        return dh;
    }
}
