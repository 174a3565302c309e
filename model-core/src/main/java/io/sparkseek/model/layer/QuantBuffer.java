package io.sparkseek.model.layer;

import io.sparkseek.model.fp8.QuantizedMatrix;
import io.sparkseek.model.kernel.ComputeBackend;
import io.sparkseek.model.kernel.ComputePool;

/**
 * The reused codes and scales of one FP8 quantization call site of a layer, so that the step loop does not
 * allocate them anew every call: grown like {@link Buffers} when a larger shape arrives, never shrunk. The matrix
 * a call returns is a view over these buffers, valid until the next call on the same instance. Not thread-safe:
 * one owner, one call at a time (the backend may still split that call over a pool's threads).
 */
final class QuantBuffer {
    private byte[] codes;     // [≥ rows·cols]
    private float[] scales;   // [≥ ceil(rows / tileRows)·ceil(cols / tileCols)]

    /** {@link ComputeBackend#quantizeInto} of {@code x[0, rows·cols)} in {@code tileRows × tileCols} tiles. */
    QuantizedMatrix quantize(ComputeBackend backend, ComputePool pool, float[] x, int rows, int cols, int tileRows,
            int tileCols) {
        if (rows >= 0 && cols >= 0 && tileRows > 0 && tileCols > 0) {   // else the backend reports the bad shape
            codes = Buffers.ensure(codes, rows * cols);
            scales = Buffers.ensure(scales, ceilDiv(rows, tileRows) * ceilDiv(cols, tileCols));
        } else if (codes == null) {
            codes = new byte[0];
            scales = new float[0];
        }
        return backend.quantizeInto(pool, x, rows, cols, tileRows, tileCols, false, codes, scales);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
