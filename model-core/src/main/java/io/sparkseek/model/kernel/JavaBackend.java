package io.sparkseek.model.kernel;

import io.sparkseek.model.fp8.QuantizedMatrix;

/**
 * The CPU backend: the Vector-API quantizer {@link JavaQuantizer} and GEMMs {@link JavaFp8Gemm}, both
 * bit-identical to the scalar references ({@link QuantizedMatrix#quantize}, {@code Fp8Gemm}) for any thread count.
 * Stateless and thread-safe.
 */
public final class JavaBackend implements ComputeBackend {

    /** The one instance; it holds no state (per-thread packing buffers live in {@link JavaFp8Gemm}). */
    public static final JavaBackend INSTANCE = new JavaBackend();

    private JavaBackend() {
    }

    @Override
    public String name() {
        return "java";
    }

    @Override
    public QuantizedMatrix quantize(ComputePool pool, float[] x, int rows, int cols, int tileRows, int tileCols,
                                    boolean powerOfTwoScales) {
        return JavaQuantizer.quantize(pool, x, rows, cols, tileRows, tileCols, powerOfTwoScales);
    }

    @Override
    public QuantizedMatrix quantizeInto(ComputePool pool, float[] x, int rows, int cols, int tileRows, int tileCols,
                                        boolean powerOfTwoScales, byte[] codes, float[] scales) {
        return JavaQuantizer.quantizeInto(pool, x, rows, cols, tileRows, tileCols, powerOfTwoScales, codes, scales);
    }

    @Override
    public void fprop(ComputePool pool, QuantizedMatrix x, QuantizedMatrix w, float[] y) {
        JavaFp8Gemm.fprop(pool, x, w, y);
    }

    @Override
    public void dgrad(ComputePool pool, QuantizedMatrix dy, QuantizedMatrix w, float[] dx) {
        JavaFp8Gemm.dgrad(pool, dy, w, dx);
    }

    @Override
    public void wgrad(ComputePool pool, QuantizedMatrix dy, QuantizedMatrix x, float[] dw) {
        JavaFp8Gemm.wgrad(pool, dy, x, dw);
    }
}
