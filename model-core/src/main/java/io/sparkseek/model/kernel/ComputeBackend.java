package io.sparkseek.model.kernel;

import io.sparkseek.model.fp8.QuantizedMatrix;

/**
 * Where the FP8 work of a training step runs (ARCHITECTURE §1 {@code kernel}, spec §8.2–§8.4): E4M3 tile/block
 * quantization and the three block-scaled GEMMs with FP32 promotion every 128 products. Implementations agree with
 * the scalar reference {@link io.sparkseek.model.fp8.Fp8Gemm} / {@link QuantizedMatrix#quantize}: quantization bit for
 * bit, GEMMs within 1e-6 relative ({@link JavaBackend}: bit for bit).
 *
 * <p>Inputs may be longer than their shape (layer buffers grow by 1.5×): only {@code [0, rows·cols)} is read, and
 * only {@code [0, M·N)} of an output is written (overwritten, not accumulated). An instance may be used by several
 * threads at once (each call is independent); {@link #close()} releases device resources.
 */
public interface ComputeBackend extends AutoCloseable {

    /** Short name for logs and metrics, e.g. {@code java} or {@code opencl:<device>}. */
    String name();

    /** E4M3 quantization of row-major {@code x[0, rows·cols)} in {@code tileRows × tileCols} tiles (spec §8.2). */
    QuantizedMatrix quantize(ComputePool pool, float[] x, int rows, int cols, int tileRows, int tileCols,
                             boolean powerOfTwoScales);

    /**
     * As {@link #quantize}, bit for bit, reusing the caller's buffers where the backend can: codes into
     * {@code codes[0, rows·cols)} and scales into {@code scales[0, ceil(rows / tileRows)·ceil(cols / tileCols))}
     * (both at least that long), the result a {@link QuantizedMatrix#view} valid until the caller quantizes into
     * them again. A backend may instead return a new matrix of its own (the default), leaving the buffers unused.
     */
    default QuantizedMatrix quantizeInto(ComputePool pool, float[] x, int rows, int cols, int tileRows, int tileCols,
                                         boolean powerOfTwoScales, byte[] codes, float[] scales) {
        return quantize(pool, x, rows, cols, tileRows, tileCols, powerOfTwoScales);
    }

    /** Fprop {@code Y[M,N] = X·Wᵀ}: x {@code [M,K]} in 1×128 tiles, w {@code [N,K]} in 128×128 blocks. */
    void fprop(ComputePool pool, QuantizedMatrix x, QuantizedMatrix w, float[] y);

    /** Dgrad {@code dX[M,K] = dY·W}: dy {@code [M,N]} in 1×128 tiles along N, w {@code [N,K]} in 128×128 blocks. */
    void dgrad(ComputePool pool, QuantizedMatrix dy, QuantizedMatrix w, float[] dx);

    /** Wgrad {@code dW[N,K] = dYᵀ·X}: dy {@code [M,N]} and x {@code [M,K]}, both in 128×1 tiles along tokens M. */
    void wgrad(ComputePool pool, QuantizedMatrix dy, QuantizedMatrix x, float[] dw);

    /** Releases device resources; the Java backend has none. */
    @Override
    default void close() {
    }
}
