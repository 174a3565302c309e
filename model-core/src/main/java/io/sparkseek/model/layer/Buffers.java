package io.sparkseek.model.layer;

/**
 * Reuse of activation buffers across steps, so the step loop does not allocate once warmed up. A first
 * allocation is exact; a buffer that has to grow (an expert whose load sets a new maximum) grows by at least
 * half, so loads that fluctuate stop causing allocations after a few steps. Callers use only the first
 * {@code size} elements.
 */
final class Buffers {
    private Buffers() {
    }

    /** {@code buf} if it holds at least {@code size} floats, else a new, larger array. */
    static float[] ensure(float[] buf, int size) {
        if (buf != null && buf.length >= size) {
            return buf;
        }
        return new float[grown(buf == null ? 0 : buf.length, size)];
    }

    static int[] ensure(int[] buf, int size) {
        if (buf != null && buf.length >= size) {
            return buf;
        }
        return new int[grown(buf == null ? 0 : buf.length, size)];
    }

    static short[] ensure(short[] buf, int size) {
        if (buf != null && buf.length >= size) {
            return buf;
        }
        return new short[grown(buf == null ? 0 : buf.length, size)];
    }

    static byte[] ensure(byte[] buf, int size) {
        if (buf != null && buf.length >= size) {
            return buf;
        }
        return new byte[grown(buf == null ? 0 : buf.length, size)];
    }

    private static int grown(int old, int size) {
        if (old == 0) {
            return size;
        }
        long want = Math.max(size, old + (long) old / 2);
        return (int) Math.min(want, Integer.MAX_VALUE - 8);
    }
}
