package io.sparkseek.model.io;

import java.util.Arrays;

/**
 * Header entry of one tensor in a safetensors file (spec §9.1).
 *
 * @param name  tensor name
 * @param dtype element type
 * @param shape dimensions (copied in and out)
 * @param begin start of its bytes, relative to the start of the data buffer
 * @param end   end (exclusive) of its bytes, relative to the start of the data buffer
 */
public record TensorInfo(String name, Dtype dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements (1 for a 0-rank tensor). */
    public long numel() {
        return TensorData.numel(shape);
    }

    /** Size of its data in bytes ({@code end − begin}). */
    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + dtype.hashCode()) + Arrays.hashCode(shape) + Long.hashCode(begin);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + "," + end + ")";
    }
}
