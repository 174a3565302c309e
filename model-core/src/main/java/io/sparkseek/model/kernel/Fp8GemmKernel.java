package io.sparkseek.model.kernel;

import com.aparapi.Kernel;

/**
 * Aparapi (OpenCL) kernel of the block-scaled FP8 GEMM {@code C[i, j] = Σ_p A(i, p)·B(j, p)} of spec §8.3–§8.4, with
 * the arithmetic of {@link io.sparkseek.model.fp8.Fp8Gemm} ({@code Accumulation.DEFAULT}): the inner index runs
 * in chunks of 128 (one scale group); a chunk's partial sum starts at zero and adds the products of the decoded
 * E4M3 values in order of p (exact products, so a fused multiply-add rounds the same), then
 * {@code acc += (sA·sB)·partial} in fp32 (product, product, sum: three roundings, written as separate statements
 * so that OpenCL's default {@code FP_CONTRACT} cannot fuse them), chunk after chunk from {@code acc = 0}.
 *
 * <p>Operands are E4M3 codes read through strides, so one kernel serves fprop, dgrad and wgrad:
 * {@code A(i, p) = lut[a[i·aOuterStride + p·aInnerStride]]} with scale
 * {@code sa[(i / aScaleDiv)·aScaleOuterStride + (p / 128)·aScaleInnerStride]}, the same for B with j.
 *
 * <p>Blocking: a work-group of {@link #THREADS}² work-items computes a {@link #BLOCK}² block of C, each work-item
 * a 4 × 4 register block (rows {@code li + 16·r}, columns {@code lj + 16·c}). For each {@link #SLICE}-deep slice
 * of a chunk the group decodes a {@code BLOCK × SLICE} panel of A and of B into local memory (zeros past the
 * edges: a product with a zero adds +0, which leaves a partial sum unchanged), each work-item loading four
 * elements of each with neighbouring work-items on neighbouring bytes (along p when the operand's inner stride is
 * 1, else along its outer index). 2-D range: dimension 0 over column blocks, 1 over row blocks.
 *
 * <p>Not thread-safe: one instance per concurrent caller ({@link AparapiBackend} pools them).
 */
final class Fp8GemmKernel extends Kernel {

    /** Work-items along each edge of a work-group. */
    static final int THREADS = 16;
    /** Outputs per work-item along each edge. */
    static final int WORK = 4;
    /** Edge of the block of C one work-group computes. */
    static final int BLOCK = THREADS * WORK;
    /** Inner-dimension depth of one local-memory panel; divides 128. */
    static final int SLICE = 16;
    /** Promotion interval = scale-group length (spec §8.3). */
    static final int GROUP = 128;
    private static final int CODE_MASK = 0xFF;

    int m;
    int n;
    int k;
    int aOuterStride;
    int aInnerStride;
    int aScaleDiv;
    int aScaleOuterStride;
    int aScaleInnerStride;
    int bOuterStride;
    int bInnerStride;
    int bScaleDiv;
    int bScaleOuterStride;
    int bScaleInnerStride;

    byte[] a = new byte[1];
    byte[] b = new byte[1];
    float[] sa = new float[1];
    float[] sb = new float[1];
    /** E4M3 code → value (256 entries). */
    float[] lut = new float[1];
    float[] c = new float[1];

    /** Decoded A panel, {@code [SLICE][BLOCK]}: element (row, t) at {@code t·BLOCK + row}. */
    @Local
    float[] aPanel = new float[SLICE * BLOCK];
    /** Decoded B panel, {@code [SLICE][BLOCK]}: element (col, t) at {@code t·BLOCK + col}. */
    @Local
    float[] bPanel = new float[SLICE * BLOCK];

    @Override
    public void run() {
        int lj = getLocalId(0);
        int li = getLocalId(1);
        int i0 = getGroupId(1) * BLOCK;
        int j0 = getGroupId(0) * BLOCK;
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
        for (int p0 = 0; p0 < k; p0 += GROUP) {
            int kc = min(GROUP, k - p0);
            float p00 = 0f, p01 = 0f, p02 = 0f, p03 = 0f;
            float p10 = 0f, p11 = 0f, p12 = 0f, p13 = 0f;
            float p20 = 0f, p21 = 0f, p22 = 0f, p23 = 0f;
            float p30 = 0f, p31 = 0f, p32 = 0f, p33 = 0f;
            for (int q0 = 0; q0 < kc; q0 += SLICE) {
                loadPanels(lj, li, i0, j0, p0, q0, kc);
                localBarrier();
                for (int t = 0; t < SLICE; t++) {
                    int at = t * BLOCK + li;
                    int bt = t * BLOCK + lj;
                    float a0 = aPanel[at];
                    float a1 = aPanel[at + THREADS];
                    float a2 = aPanel[at + 2 * THREADS];
                    float a3 = aPanel[at + 3 * THREADS];
                    float b0 = bPanel[bt];
                    float b1 = bPanel[bt + THREADS];
                    float b2 = bPanel[bt + 2 * THREADS];
                    float b3 = bPanel[bt + 3 * THREADS];
                    p00 = p00 + a0 * b0;
                    p01 = p01 + a0 * b1;
                    p02 = p02 + a0 * b2;
                    p03 = p03 + a0 * b3;
                    p10 = p10 + a1 * b0;
                    p11 = p11 + a1 * b1;
                    p12 = p12 + a1 * b2;
                    p13 = p13 + a1 * b3;
                    p20 = p20 + a2 * b0;
                    p21 = p21 + a2 * b1;
                    p22 = p22 + a2 * b2;
                    p23 = p23 + a2 * b3;
                    p30 = p30 + a3 * b0;
                    p31 = p31 + a3 * b1;
                    p32 = p32 + a3 * b2;
                    p33 = p33 + a3 * b3;
                }
                localBarrier();
            }
            // Promotion. Rows/columns past the edge read a valid (clamped) scale; their sums are never stored.
            int g = p0 / GROUP;
            float s0 = scaleA(i0 + li, g);
            float s1 = scaleA(i0 + li + THREADS, g);
            float s2 = scaleA(i0 + li + 2 * THREADS, g);
            float s3 = scaleA(i0 + li + 3 * THREADS, g);
            float t0 = scaleB(j0 + lj, g);
            float t1 = scaleB(j0 + lj + THREADS, g);
            float t2 = scaleB(j0 + lj + 2 * THREADS, g);
            float t3 = scaleB(j0 + lj + 3 * THREADS, g);
            c00 = promote(c00, s0, t0, p00);
            c01 = promote(c01, s0, t1, p01);
            c02 = promote(c02, s0, t2, p02);
            c03 = promote(c03, s0, t3, p03);
            c10 = promote(c10, s1, t0, p10);
            c11 = promote(c11, s1, t1, p11);
            c12 = promote(c12, s1, t2, p12);
            c13 = promote(c13, s1, t3, p13);
            c20 = promote(c20, s2, t0, p20);
            c21 = promote(c21, s2, t1, p21);
            c22 = promote(c22, s2, t2, p22);
            c23 = promote(c23, s2, t3, p23);
            c30 = promote(c30, s3, t0, p30);
            c31 = promote(c31, s3, t1, p31);
            c32 = promote(c32, s3, t2, p32);
            c33 = promote(c33, s3, t3, p33);
        }
        store(i0 + li, j0 + lj, c00, c01, c02, c03);
        store(i0 + li + THREADS, j0 + lj, c10, c11, c12, c13);
        store(i0 + li + 2 * THREADS, j0 + lj, c20, c21, c22, c23);
        store(i0 + li + 3 * THREADS, j0 + lj, c30, c31, c32, c33);
    }

    /**
     * Decodes the slice [p0 + q0, p0 + q0 + SLICE) of rows [i0, i0 + BLOCK) of A and of B into the panels, zero past
     * m, n or the chunk end kc; four elements of each per work-item.
     */
    private void loadPanels(int lj, int li, int i0, int j0, int p0, int q0, int kc) {
        for (int l = 0; l < WORK; l++) {
            // Neighbouring work-items (lj) take neighbouring p when A is contiguous along p, else neighbouring rows.
            int row = li + l * THREADS;
            int t = lj;
            if (aInnerStride != 1) {
                row = lj + l * THREADS;
                t = li;
            }
            float v = 0f;
            if (i0 + row < m && q0 + t < kc) {
                v = lut[a[(i0 + row) * aOuterStride + (p0 + q0 + t) * aInnerStride] & CODE_MASK];
            }
            aPanel[t * BLOCK + row] = v;

            int col = li + l * THREADS;
            int u = lj;
            if (bInnerStride != 1) {
                col = lj + l * THREADS;
                u = li;
            }
            float w = 0f;
            if (j0 + col < n && q0 + u < kc) {
                w = lut[b[(j0 + col) * bOuterStride + (p0 + q0 + u) * bInnerStride] & CODE_MASK];
            }
            bPanel[u * BLOCK + col] = w;
        }
    }

    /** Scale of A's row i (clamped into range) for scale group g along the inner index. */
    private float scaleA(int i, int g) {
        return sa[(min(i, m - 1) / aScaleDiv) * aScaleOuterStride + g * aScaleInnerStride];
    }

    /** Scale of B's row j (clamped into range) for scale group g along the inner index. */
    private float scaleB(int j, int g) {
        return sb[(min(j, n - 1) / bScaleDiv) * bScaleOuterStride + g * bScaleInnerStride];
    }

    /** {@code acc + (sa·sb)·partial} with three separate roundings, as the reference. */
    private float promote(float acc, float sA, float sB, float partial) {
        float scale = sA * sB;
        float promoted = scale * partial;
        return acc + promoted;
    }

    /** C[i, j + 16·c] = v_c for the columns inside [0, n), when row i is inside [0, m). */
    private void store(int i, int j, float v0, float v1, float v2, float v3) {
        if (i < m) {
            int row = i * n;
            if (j < n) {
                c[row + j] = v0;
            }
            if (j + THREADS < n) {
                c[row + j + THREADS] = v1;
            }
            if (j + 2 * THREADS < n) {
                c[row + j + 2 * THREADS] = v2;
            }
            if (j + 3 * THREADS < n) {
                c[row + j + 3 * THREADS] = v3;
            }
        }
    }
}
