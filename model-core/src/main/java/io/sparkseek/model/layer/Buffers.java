package io.sparkseek.model.layer;

/** Reuse of activation buffers across steps, so the step loop does not allocate once warmed up. */
final class Buffers {
    private Buffers() {
    }

    /** {@code buf} if it holds at least {@code size} floats, else a new array of exactly that size. */
    static float[] ensure(float[] buf, int size) {
        return buf != null && buf.length >= size ? buf : new float[size];
    }

    static int[] ensure(int[] buf, int size) {
        return buf != null && buf.length >= size ? buf : new int[size];
    }
}
