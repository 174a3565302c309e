package io.sparkseek.model.io;

import io.sparkseek.model.fp8.Bf16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One named tensor as it is stored in a safetensors file (spec §9.1): dtype, shape and the raw little-endian,
 * row-major bytes.
 *
 * <p>{@code shape} is copied in and out. {@code data} is NOT copied (tensors can be large): the record takes
 * ownership of the array and callers must not modify it afterwards. {@code equals}/{@code hashCode} compare
 * contents.
 *
 * @param name  tensor name (HF name, e.g. {@code model.norm.weight}); not empty, not {@code __metadata__}
 * @param dtype element type
 * @param shape dimensions, each ≥ 0; empty for a 0-rank (scalar) tensor
 * @param data  exactly {@code numel × dtype.size()} bytes, little-endian
 */
public record TensorData(String name, Dtype dtype, long[] shape, byte[] data) {

    public TensorData {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("tensor name must not be empty");
        }
        if (name.equals(Safetensors.METADATA_KEY)) {
            throw new IllegalArgumentException("tensor name \"" + Safetensors.METADATA_KEY
                    + "\" is reserved for the file metadata; choose another name");
        }
        if (dtype == null || shape == null || data == null) {
            throw new IllegalArgumentException("tensor '" + name + "': dtype, shape and data must not be null");
        }
        shape = shape.clone();
        long expected;
        try {
            expected = Math.multiplyExact(numel(shape), dtype.size());
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor '" + name + "': bad shape " + Arrays.toString(shape)
                    + ": " + e.getMessage());
        }
        if (expected != data.length) {
            throw new IllegalArgumentException("tensor '" + name + "' (" + dtype + ", shape "
                    + Arrays.toString(shape) + ") needs " + expected + " bytes but " + data.length + " were given");
        }
    }

    /** The shape (a copy). */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements (1 for a 0-rank tensor). */
    public long numel() {
        return numel(shape);
    }

    /** Product of the dimensions; throws {@link IllegalArgumentException} for a negative dimension and
     *  {@link ArithmeticException} on overflow. */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension " + d);
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** An F32 tensor. */
    public static TensorData f32(String name, long[] shape, float[] values) {
        checkCount(name, shape, values.length);
        ByteBuffer b = alloc(values.length, 4);
        b.asFloatBuffer().put(values);
        return new TensorData(name, Dtype.F32, shape, b.array());
    }

    /** A BF16 tensor; each value is rounded to nearest-even by {@link Bf16#fromFloat(float)}. */
    public static TensorData bf16(String name, long[] shape, float[] values) {
        checkCount(name, shape, values.length);
        ByteBuffer b = alloc(values.length, 2);
        for (float v : values) {
            b.putShort(Bf16.fromFloat(v));
        }
        return new TensorData(name, Dtype.BF16, shape, b.array());
    }

    /** An F16 (IEEE binary16) tensor; each value is rounded to nearest-even. */
    public static TensorData f16(String name, long[] shape, float[] values) {
        checkCount(name, shape, values.length);
        ByteBuffer b = alloc(values.length, 2);
        for (float v : values) {
            b.putShort(Half.fromFloat(v));
        }
        return new TensorData(name, Dtype.F16, shape, b.array());
    }

    /** An I32 tensor. */
    public static TensorData i32(String name, long[] shape, int[] values) {
        checkCount(name, shape, values.length);
        ByteBuffer b = alloc(values.length, 4);
        b.asIntBuffer().put(values);
        return new TensorData(name, Dtype.I32, shape, b.array());
    }

    /** An I64 tensor. */
    public static TensorData i64(String name, long[] shape, long[] values) {
        checkCount(name, shape, values.length);
        ByteBuffer b = alloc(values.length, 8);
        b.asLongBuffer().put(values);
        return new TensorData(name, Dtype.I64, shape, b.array());
    }

    /** An F8_E4M3 tensor from already-encoded E4M3 codes (one byte each; the array is copied). */
    public static TensorData f8e4m3(String name, long[] shape, byte[] codes) {
        checkCount(name, shape, codes.length);
        return new TensorData(name, Dtype.F8_E4M3, shape, codes.clone());
    }

    private static void checkCount(String name, long[] shape, int count) {
        long n;
        try {
            n = numel(shape);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor '" + name + "': bad shape " + Arrays.toString(shape)
                    + ": " + e.getMessage());
        }
        if (n != count) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " has "
                    + n + " elements but " + count + " values were given");
        }
    }

    private static ByteBuffer alloc(int count, int size) {
        return ByteBuffer.allocate(Math.multiplyExact(count, size)).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * name.hashCode() + dtype.hashCode()) + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "TensorData[" + name + ", " + dtype + ", shape " + Arrays.toString(shape) + ", " + data.length
                + " bytes]";
    }
}
