package io.sparkseek.model.layer;

import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.fp8.E5M6Tiles;
import io.sparkseek.model.fp8.QuantizedMatrix;
import io.sparkseek.model.kernel.ComputeBackend;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.kernel.CpuGemm;
import io.sparkseek.model.kernel.E5M6Vectors;
import io.sparkseek.model.kernel.JavaQuantizer;

/**
 * A bias-free linear layer {@code Y = X·Wᵀ} (spec §7 "Linear"), W of shape {@code [out, in]}, in FP32 or in FP8
 * (spec §8.1–§8.5).
 *
 * <p>FP32 caches X by reference (the caller's buffer must stay unchanged until backward). FP8 runs the three GEMMs
 * on the policy's backend with E4M3 operands and FP32 promotion every 128 products:
 * <pre>
 * forward   Wq = W in 128×128 blocks, Xq = X in 1×128 tiles;  Y = fprop(Xq, Wq)
 *           cached for backward: Wq, and X in FP8 — Xq itself, or (the o_proj input) E5M6 1×128 with 2^k scales
 * backward  dX = dgrad(dY in 1×128 tiles, Wq)
 *           dW += wgrad(dY in 128×1 tiles, X̂ in 128×1 tiles), X̂ = the cached X dequantized (spec §8.4–§8.5:
 *           read, dequantized, re-quantized along tokens)
 * </pre>
 * X, dY and every other tensor stay FP32 outside the GEMMs; so do W (master weight) and dW.
 */
public final class Linear {
    /** What an FP8 Linear caches of its input for backward (spec §8.5). */
    public enum InputCache {
        /** The E4M3 1×128 tiles of the fprop operand. */
        E4M3,
        /** E5M6 1×128 tiles with power-of-two scales: the input of the Linear after attention ({@code o_proj}). */
        E5M6
    }

    private static final int G = QuantizedMatrix.GROUP_SIZE;

    private final Param weight;
    private final int in;
    private final int out;
    private final ComputeBackend fp8;    // null: FP32
    private final InputCache inputCache;

    private float[] x;      // FP32: cached input [n, in] (by reference), from element xOff
    private int xOff;
    private float[] y;      // output buffer [n, out]
    private float[] dx;     // input-gradient buffer [n, in]
    // FP8 caches and buffers
    private QuantizedMatrix wq;     // W in 128×128 blocks, from forward
    private QuantizedMatrix xq;     // X in 1×128 tiles (InputCache.E4M3)
    private E5M6Tiles xe;           // X in E5M6 (InputCache.E5M6)
    private QuantizedMatrix xCols;  // X̂ in 128×1 tiles for wgrad, made by the first backward that needs it
    private Linear inputOwner;      // the Linear whose cached input this one read (forwardOnInputOf), or null
    private float[] xHat;           // dequantized X [n, in]
    private float[] dw;             // this batch's dW [out, in]
    // Reused codes and scales of each quantization (wq, xq and xCols are views over the first three)
    private final QuantBuffer wBuf = new QuantBuffer();      // W, 128×128 blocks
    private final QuantBuffer xBuf = new QuantBuffer();      // X [n, in], 1×128 tiles
    private final QuantBuffer xColBuf = new QuantBuffer();   // X̂ [n, in], 128×1 tiles
    private final QuantBuffer dyBuf = new QuantBuffer();     // dY [n, out], 1×128 tiles
    private final QuantBuffer dyColBuf = new QuantBuffer();  // dY [n, out], 128×1 tiles
    private short[] xeCodes;        // xe's codes [≥ n·in] (InputCache.E5M6)
    private float[] xeScales;       // xe's scales [≥ n·ceil(in / 128)]

    /** An FP32 Linear (embedding-adjacent layers, {@code lm_head}). */
    public Linear(Param weight) {
        this(weight, PrecisionPolicy.FP32, InputCache.E4M3);
    }

    /** A Linear of attention, MLP or an expert: FP8 when the policy says so, caching its input as given. */
    public Linear(Param weight, PrecisionPolicy policy, InputCache inputCache) {
        if (weight.rank() != 2) {
            throw new IllegalArgumentException("Linear weight must be a matrix: " + weight);
        }
        this.weight = weight;
        this.out = weight.rows();
        this.in = weight.cols();
        this.fp8 = policy.fp8Linears() ? policy.backend() : null;
        this.inputCache = inputCache;
    }

    public Param weight() {
        return weight;
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    /** Whether the GEMMs run in FP8. */
    public boolean isFp8() {
        return fp8 != null;
    }

    /** x [n, in] → y [n, out] (a buffer owned by this layer, valid until the next forward). */
    public float[] forward(ComputePool pool, float[] x, int n) {
        y = Buffers.ensure(y, n * out);
        inputOwner = null;
        xCols = null;
        if (fp8 == null) {
            forwardAt(pool, x, 0, n, y, 0);
            return y;
        }
        wq = wBuf.quantize(fp8, pool, weight.w(), out, in, G, G);
        QuantizedMatrix xTiles = xBuf.quantize(fp8, pool, x, n, in, 1, G);
        fp8.fprop(pool, xTiles, wq, y);
        if (inputCache == InputCache.E5M6) {
            xeCodes = Buffers.ensure(xeCodes, n * in);
            xeScales = Buffers.ensure(xeScales, n * ((in + G - 1) / G));
            xe = E5M6Vectors.quantizeInto(x, n, in, xeCodes, xeScales);
            xq = null;
        } else {
            xq = xTiles;
            xe = null;
        }
        return y;
    }

    /**
     * Forward on the input {@code first} has just consumed in its own {@link #forward} (gate/up of an MLP, q_a and
     * kv_a of MLA read the same x): in FP8 the input is quantized once, and its 128×1 tiles for wgrad are made once
     * in backward, for both. Same result as {@code forward(pool, x, n)}; {@code first} must not run another
     * forward before this Linear's backward.
     */
    public float[] forwardOnInputOf(ComputePool pool, Linear first, int n) {
        if (first.in != in || first.isFp8() != isFp8() || first.inputOwner != null || first.xe != null
                || inputCache != InputCache.E4M3) {
            throw new IllegalArgumentException(weight.name() + " cannot share the input of " + first.weight.name());
        }
        if (fp8 == null) {
            y = Buffers.ensure(y, n * out);
            inputOwner = null;
            forwardAt(pool, first.x, first.xOff, n, y, 0);
            return y;
        }
        if (first.xq == null || first.xq.rows() != n) {
            throw new IllegalStateException(first.weight.name() + " has no cached input of " + n + " rows to share");
        }
        y = Buffers.ensure(y, n * out);
        inputOwner = first;
        xq = null;
        xe = null;
        xCols = null;
        wq = wBuf.quantize(fp8, pool, weight.w(), out, in, G, G);
        fp8.fprop(pool, first.xq, wq, y);
        return y;
    }

    /**
     * FP32 only, on rows inside callers' arrays (MoE experts' slices of a layer-wide buffer): x[xOff, +n·in) →
     * y[yOff, +n·out). Caches x (by reference) and xOff: those rows must stay unchanged until backward.
     */
    void forwardAt(ComputePool pool, float[] x, int xOff, int n, float[] y, int yOff) {
        if (fp8 != null) {
            throw new IllegalStateException(weight.name() + ": FP8 Linears read and write whole buffers");
        }
        this.x = x;
        this.xOff = xOff;
        CpuGemm.nt(pool, n, out, in, x, xOff, in, weight.w(), 0, in, y, yOff, out, false);
    }

    /** FP32 only: dy[dyOff, +n·out) → dx[dxOff, +n·in); dW += dyᵀ·x on the rows of the last {@link #forwardAt}. */
    void backwardAt(ComputePool pool, float[] dy, int dyOff, int n, float[] dx, int dxOff) {
        if (fp8 != null) {
            throw new IllegalStateException(weight.name() + ": FP8 Linears read and write whole buffers");
        }
        CpuGemm.nn(pool, n, in, out, dy, dyOff, out, weight.w(), 0, in, dx, dxOff, in, false);
        CpuGemm.tn(pool, out, in, n, dy, dyOff, out, x, xOff, in, weight.g(), 0, in, true);
    }

    /** The cached input, dequantized and re-quantized in 128×1 tiles along tokens (once per forward). */
    private QuantizedMatrix inputColumns(ComputePool pool, int n) {
        if (xCols == null) {
            xHat = Buffers.ensure(xHat, n * in);
            if (xe != null) {
                xe.dequantizeInto(xHat);
            } else {
                JavaQuantizer.dequantize(xq, xHat);
            }
            xCols = xColBuf.quantize(fp8, pool, xHat, n, in, G, 1);
        }
        return xCols;
    }

    /** dy [n, out] → dx [n, in]; dW += dyᵀ·x. */
    public float[] backward(ComputePool pool, float[] dy, int n) {
        dx = Buffers.ensure(dx, n * in);
        if (fp8 == null) {
            backwardAt(pool, dy, 0, n, dx, 0);
            return dx;
        }
        fp8.dgrad(pool, dyBuf.quantize(fp8, pool, dy, n, out, 1, G), wq, dx);
        QuantizedMatrix dyCols = dyColBuf.quantize(fp8, pool, dy, n, out, G, 1);
        QuantizedMatrix xCols = (inputOwner != null ? inputOwner : this).inputColumns(pool, n);
        dw = Buffers.ensure(dw, out * in);
        fp8.wgrad(pool, dyCols, xCols, dw);
        float[] g = weight.g();
        float[] dwv = dw;
        pool.parallelFor(out, 1, (lo, hi) -> {
            for (int i = lo * in, end = hi * in; i < end; i++) {
                g[i] += dwv[i];
            }
        });
        return dx;
    }
}
