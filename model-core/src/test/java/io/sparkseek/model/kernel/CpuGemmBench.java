package io.sparkseek.model.kernel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Microbenchmark of {@link CpuGemm} (not a test): GFLOP/s per variant and shape at 1 and 2 threads, median of
 * several timed samples, with the old naive Vector-API loops for comparison on the smaller shapes.
 *
 * <pre>
 * mvn -o -pl model-core test-compile
 * java --add-modules=jdk.incubator.vector -cp model-core/target/classes:model-core/target/test-classes \
 *     io.sparkseek.model.kernel.CpuGemmBench [samples] [filter] [pollute]
 * </pre>
 * {@code filter} keeps only shapes whose label contains it. {@code pollute} first runs FloatVector code of
 * another species (256 bits), as other kernels in the same JVM might: that makes the Vector API's shared type
 * profiles bimorphic; measured here, the packed kernels then lose up to about 2x, the old naive loops 10x.
 */
public final class CpuGemmBench {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private record Shape(String label, String kinds, int m, int n, int k, boolean naive) {
    }

    private interface Gemm {
        void run(ComputePool pool, int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                 float[] c, int cOff, int ldc, boolean accumulate);
    }

    private CpuGemmBench() {
    }

    public static void main(String[] args) {
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        String filter = args.length > 1 ? args[1] : "";
        if (args.length > 2 && args[2].equals("pollute")) {
            pollute();
        }
        List<Shape> shapes = new ArrayList<>();
        // Large shapes, all three variants (M = 2048 tokens).
        for (int[] d : new int[][] {{2048, 256, 256}, {2048, 1024, 1024}, {2048, 2048, 2048}}) {
            shapes.add(new Shape(d[0] + "x" + d[1] + "x" + d[2], "nt nn tn", d[0], d[1], d[2], d[1] <= 256));
        }
        // The small config's Linear layers at 2048 tokens: forward nt(T, out, in), dgrad nn(T, in, out),
        // wgrad tn(out, in, T).
        int t = 2048;
        String[] names = {"q_a", "q_b", "kv_a", "kv_b", "o", "mlp up", "mlp down", "shared up", "router", "lm_head"};
        int[][] inOut = {{256, 128}, {128, 192}, {256, 80}, {64, 256}, {128, 256}, {256, 512}, {512, 256},
            {256, 128}, {256, 16}, {256, 8192}};
        for (int i = 0; i < names.length; i++) {
            int in = inOut[i][0];
            int out = inOut[i][1];
            boolean naive = out < 8192;
            shapes.add(new Shape(names[i] + " fwd", "nt", t, out, in, naive));
            shapes.add(new Shape(names[i] + " dgrad", "nn", t, in, out, naive));
            shapes.add(new Shape(names[i] + " wgrad", "tn", out, in, t, naive));
        }
        // A routed expert with ~512 tokens (hidden 256, expert width 128), and one with 24 tokens.
        for (int m : new int[] {512, 24}) {
            shapes.add(new Shape("expert" + m + " up fwd", "nt", m, 128, 256, true));
            shapes.add(new Shape("expert" + m + " down fwd", "nt", m, 256, 128, true));
            shapes.add(new Shape("expert" + m + " up dgrad", "nn", m, 256, 128, true));
            shapes.add(new Shape("expert" + m + " up wgrad", "tn", 128, 256, m, true));
        }
        // Attention per (sequence, head), one causal block of 64 query rows against 256 keys:
        // qk_nope 32, qk_rope 16, v 32.
        shapes.add(new Shape("attn QK^T nope", "nt", 64, 256, 32, true));
        shapes.add(new Shape("attn QK^T rope", "nt", 64, 256, 16, true));
        shapes.add(new Shape("attn P.V", "nn", 64, 32, 256, true));
        shapes.add(new Shape("attn dP = dO.V^T", "nt", 64, 256, 32, true));
        shapes.add(new Shape("attn dQ nope", "nn", 64, 32, 256, true));
        shapes.add(new Shape("attn dQ rope", "nn", 64, 16, 256, true));
        shapes.add(new Shape("attn dV = P^T.dO", "tn", 64, 32, 256, true));
        shapes.add(new Shape("attn dK rope", "tn", 64, 16, 256, true));
        // Tiny and degenerate.
        for (int[] d : new int[][] {{64, 64, 64}, {16, 16, 16}, {7, 9, 5}, {1, 256, 256}, {256, 1, 256},
            {256, 256, 1}}) {
            shapes.add(new Shape(d[0] + "x" + d[1] + "x" + d[2], "nt nn tn", d[0], d[1], d[2], true));
        }

        System.out.printf(Locale.ROOT, "species %s, %d samples (median GFLOP/s; min-max in brackets)%n", S, samples);
        System.out.printf(Locale.ROOT, "%-20s %-3s %-16s %22s %22s %22s%n", "shape", "op", "MxNxK", "1 thread",
                "2 threads", "old naive, 1 thread");
        try (ComputePool one = ComputePool.serial(); ComputePool two = new ComputePool(2)) {
            for (Shape s : shapes) {
                if (!s.label().contains(filter)) {
                    continue;
                }
                for (String kind : s.kinds().split(" ")) {
                    Gemm fast = switch (kind) {
                        case "nt" -> CpuGemm::nt;
                        case "nn" -> CpuGemm::nn;
                        default -> CpuGemm::tn;
                    };
                    Gemm naive = switch (kind) {
                        case "nt" -> CpuGemmBench::naiveNt;
                        case "nn" -> CpuGemmBench::naiveNn;
                        default -> CpuGemmBench::naiveTn;
                    };
                    String r1 = time(fast, kind, s, one, samples);
                    String r2 = time(fast, kind, s, two, samples);
                    String r3 = s.naive() ? time(naive, kind, s, one, samples) : "";
                    System.out.printf(Locale.ROOT, "%-20s %-3s %-16s %22s %22s %22s%n", s.label(), kind,
                            s.m() + "x" + s.n() + "x" + s.k(), r1, r2, r3);
                }
            }
        }
    }

    private static String time(Gemm g, String kind, Shape s, ComputePool pool, int samples) {
        int m = s.m();
        int n = s.n();
        int k = s.k();
        int lda = kind.equals("tn") ? m : k;
        int ldb = kind.equals("nt") ? k : n;
        Random rnd = new Random(1);
        float[] a = new float[m * k];
        float[] b = new float[n * k];
        float[] c = new float[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextFloat() - 0.5f;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = rnd.nextFloat() - 0.5f;
        }
        double flops = 2.0 * m * n * k;
        // Calls per sample: about 40 ms of work at 50 GFLOP/s.
        int reps = (int) Math.max(1, Math.min(1_000_000, 40e-3 * 50e9 / flops));
        long warmEnd = System.nanoTime() + 300_000_000L;
        while (System.nanoTime() < warmEnd) {
            g.run(pool, m, n, k, a, 0, lda, b, 0, ldb, c, 0, n, false);
        }
        double[] gf = new double[samples];
        for (int sIdx = 0; sIdx < samples; sIdx++) {
            long t0 = System.nanoTime();
            for (int r = 0; r < reps; r++) {
                g.run(pool, m, n, k, a, 0, lda, b, 0, ldb, c, 0, n, false);
            }
            gf[sIdx] = flops * reps / (System.nanoTime() - t0);
        }
        Arrays.sort(gf);
        return String.format(Locale.ROOT, "%6.1f [%5.1f-%5.1f]", gf[samples / 2], gf[0], gf[samples - 1]);
    }

    /**
     * Exercises FloatVector with a second species, making the Vector API's shared type profiles bimorphic (the
     * case that once made the micro-kernel box its vectors, 50x slower).
     */
    private static void pollute() {
        float[] x = new float[4096];
        float[] y = new float[4096];
        VectorSpecies<Float> s256 = FloatVector.SPECIES_256;
        for (int rep = 0; rep < 20_000; rep++) {
            for (int i = 0; i + s256.length() <= x.length; i += s256.length()) {
                FloatVector.fromArray(s256, x, i).fma(FloatVector.fromArray(s256, y, i), FloatVector.broadcast(s256, 2f))
                        .intoArray(y, i);
            }
        }
        System.out.println("polluted Vector API type profiles with " + s256 + " (" + y[7] + ")");
    }

    // ---- the previous naive implementation, for comparison

    static void naiveNt(ComputePool pool, int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff,
                        int ldb, float[] c, int cOff, int ldc, boolean accumulate) {
        pool.parallelFor(m, 4, (lo, hi) -> {
            int upper = S.loopBound(k);
            for (int i = lo; i < hi; i++) {
                int ai = aOff + i * lda;
                int ci = cOff + i * ldc;
                for (int j = 0; j < n; j++) {
                    int bj = bOff + j * ldb;
                    FloatVector acc = FloatVector.zero(S);
                    int p = 0;
                    for (; p < upper; p += S.length()) {
                        acc = FloatVector.fromArray(S, a, ai + p).fma(FloatVector.fromArray(S, b, bj + p), acc);
                    }
                    float s = acc.reduceLanes(VectorOperators.ADD);
                    for (; p < k; p++) {
                        s += a[ai + p] * b[bj + p];
                    }
                    c[ci + j] = accumulate ? c[ci + j] + s : s;
                }
            }
        });
    }

    static void naiveNn(ComputePool pool, int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff,
                        int ldb, float[] c, int cOff, int ldc, boolean accumulate) {
        naiveNnTn(pool, m, n, k, a, aOff, lda, 1, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    static void naiveTn(ComputePool pool, int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff,
                        int ldb, float[] c, int cOff, int ldc, boolean accumulate) {
        naiveNnTn(pool, m, n, k, a, aOff, 1, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    private static void naiveNnTn(ComputePool pool, int m, int n, int k, float[] a, int aOff, int aRow, int aCol,
                                  float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean accumulate) {
        pool.parallelFor(m, 4, (lo, hi) -> {
            int upper = S.loopBound(n);
            for (int i = lo; i < hi; i++) {
                int ci = cOff + i * ldc;
                if (!accumulate) {
                    Arrays.fill(c, ci, ci + n, 0f);
                }
                for (int p = 0; p < k; p++) {
                    float av = a[aOff + i * aRow + p * aCol];
                    int bp = bOff + p * ldb;
                    FloatVector va = FloatVector.broadcast(S, av);
                    int j = 0;
                    for (; j < upper; j += S.length()) {
                        FloatVector.fromArray(S, b, bp + j).fma(va, FloatVector.fromArray(S, c, ci + j))
                                .intoArray(c, ci + j);
                    }
                    for (; j < n; j++) {
                        c[ci + j] += av * b[bp + j];
                    }
                }
            }
        });
    }
}
