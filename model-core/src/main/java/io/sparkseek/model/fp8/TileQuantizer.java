package io.sparkseek.model.fp8;

/**
 * Activation and activation-gradient quantization (spec §8.2, §8.4) for a row-major {@code [tokens, channels]}
 * matrix: {@link #quantizeRows} makes 1×128 tiles (per token, 128 channels along the GEMM inner dimension K; fprop
 * X and dgrad dY), {@link #quantizeColumns} makes 128×1 tiles (per channel, 128 tokens; both wgrad operands).
 * Ragged edge tiles are zero-padded for the amax.
 */
public final class TileQuantizer {

    /** Tile length along the grouped dimension (spec §8.2). */
    public static final int TILE = QuantizedMatrix.GROUP_SIZE;

    private TileQuantizer() {
    }

    /** 1×128 tiles along the columns: scales {@code [rows, ceil(cols/128)]}. */
    public static QuantizedMatrix quantizeRows(float[] x, int rows, int cols, boolean powerOfTwoScales) {
        return QuantizedMatrix.quantize(x, rows, cols, 1, TILE, powerOfTwoScales);
    }

    /** 128×1 tiles along the rows (tokens), for wgrad: scales {@code [ceil(rows/128), cols]}. */
    public static QuantizedMatrix quantizeColumns(float[] x, int rows, int cols, boolean powerOfTwoScales) {
        return QuantizedMatrix.quantize(x, rows, cols, TILE, 1, powerOfTwoScales);
    }
}
