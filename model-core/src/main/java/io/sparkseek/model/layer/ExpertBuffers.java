package io.sparkseek.model.layer;

/**
 * The activation buffers of one MoE layer's routed FP32 experts, shared by them. A layer routes n·K token slots;
 * expert j uses rows {@code [start_j, start_j + load_j)} of every array ({@link MoE} computes {@code start}), so
 * experts running concurrently write disjoint rows, and the size is a function of n·K alone, not of how unevenly
 * the tokens are spread over the experts. Allocated exactly for the largest n·K seen, never shrunk, so the step
 * loop stops allocating after its first step.
 */
final class ExpertBuffers {
    private final int hidden;
    private final int inter;
    private int rows;           // capacity in rows
    private int allocations;    // how often the arrays were (re)allocated

    float[] x;      // gathered inputs [rows, hidden]; cached by gate/up for backward
    float[] y;      // expert outputs [rows, hidden]; cached for the routing-weight gradient
    float[] dy;     // gathered g·dy [rows, hidden]; once down_proj's backward has read it, up_proj's dx
    float[] dx;     // expert input gradients [rows, hidden]
    float[] a;      // gate_proj(x) [rows, inter], cached for backward
    float[] u;      // up_proj(x) [rows, inter], cached for backward
    float[] sig;    // σ(a) [rows, inter], cached for backward
    float[] h;      // SiLU(a) ⊙ u [rows, inter], cached by down_proj for backward
    float[] dh;     // down_proj's dx [rows, inter]; then du, in place
    float[] da;     // [rows, inter]

    ExpertBuffers(int hidden, int inter) {
        this.hidden = hidden;
        this.inter = inter;
    }

    /** Makes room for {@code rows} rows (n·K), reallocating every array when it is more than the capacity. */
    void ensure(int rows) {
        if (rows <= this.rows) {
            return;
        }
        this.rows = rows;
        allocations++;
        x = new float[rows * hidden];
        y = new float[rows * hidden];
        dy = new float[rows * hidden];
        dx = new float[rows * hidden];
        a = new float[rows * inter];
        u = new float[rows * inter];
        sig = new float[rows * inter];
        h = new float[rows * inter];
        dh = new float[rows * inter];
        da = new float[rows * inter];
    }

    /** Capacity in rows. */
    int rows() {
        return rows;
    }

    /** How often {@link #ensure} allocated (tests: no allocation once the bound is reached). */
    int allocations() {
        return allocations;
    }
}
