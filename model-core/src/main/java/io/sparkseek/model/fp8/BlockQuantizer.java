package io.sparkseek.model.fp8;

/**
 * Weight quantization in 128×128 blocks (spec §8.2, §9.3): a {@code [out, in]} weight gets a
 * {@code [ceil(out/128), ceil(in/128)]} scale grid (e.g. {@code [576, 7168]} → {@code [5, 56]}); ragged edge blocks
 * are zero-padded for the amax. Square blocks serve both fprop and dgrad without re-quantization (spec §8.4).
 */
public final class BlockQuantizer {

    /** Block edge (spec §8.2). */
    public static final int BLOCK = QuantizedMatrix.GROUP_SIZE;

    private BlockQuantizer() {
    }

    /** Quantizes row-major {@code w[rows * cols]} in 128×128 blocks with fp32 scales {@code amax / 448}. */
    public static QuantizedMatrix quantize(float[] w, int rows, int cols) {
        return quantize(w, rows, cols, false);
    }

    /** As {@link #quantize(float[], int, int)}, optionally with power-of-two (ue8m0) scales rounded up. */
    public static QuantizedMatrix quantize(float[] w, int rows, int cols, boolean powerOfTwoScales) {
        return QuantizedMatrix.quantize(w, rows, cols, BLOCK, BLOCK, powerOfTwoScales);
    }
}
