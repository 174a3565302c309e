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
 * another species (256 bits), as other kernels in the same JVM might: the GEMMs must not slow down.
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
        // Large shapes: M = 2048 tokens.
        shapes.add(new Shape("square 2048x256x256", "nt nn tn", 2048, 256, 256, false));
        shapes.add(new Shape("mlp up 2048x512x256", "nt nn tn", 2048, 512, 256, false));
        shapes.add(new Shape("2048x1024x1024", "nt nn tn", 2048, 1024, 1024, false));
        shapes.add(new Shape("lm_head fwd 2048x8192x256", "nt", 2048, 8192, 256, false));
        shapes.add(new Shape("lm_head dgrad 2048x256x8192", "nn", 2048, 256, 8192, false));
        shapes.add(new Shape("lm_head wgrad 8192x256x2048", "tn", 8192, 256, 2048, false));
        // The small config's Linear layers: forward nt (M=tokens), dgrad nn, wgrad tn (K=tokens).
        shapes.add(new Shape("q_a fwd 2048x128x256", "nt", 2048, 128, 256, false));
        shapes.add(new Shape("kv_a fwd 2048x80x256", "nt", 2048, 80, 256, true));
        shapes.add(new Shape("kv_a dgrad 2048x256x80", "nn", 2048, 256, 80, true));
        shapes.add(new Shape("kv_a wgrad 80x256x2048", "tn", 80, 256, 2048, true));
        shapes.add(new Shape("q_b fwd 2048x192x128", "nt", 2048, 192, 128, false));
        shapes.add(new Shape("kv_b fwd 2048x256x64", "nt", 2048, 256, 64, true));
        shapes.add(new Shape("o fwd 2048x256x128", "nt", 2048, 256, 128, false));
        shapes.add(new Shape("expert 512x128x256", "nt nn tn", 512, 128, 256, true));
        shapes.add(new Shape("expert 512x256x128", "nt nn tn", 512, 256, 128, true));
        // Attention, per head.
        shapes.add(new Shape("attn scores 256x256x48", "nt", 256, 256, 48, true));
        shapes.add(new Shape("attn P.V 256x32x256", "nn", 256, 32, 256, true));
        shapes.add(new Shape("attn dV 256x32x256", "tn", 256, 32, 256, true));
        shapes.add(new Shape("attn dP 256x256x32", "nt", 256, 256, 32, true));
        shapes.add(new Shape("attn dQ 256x48x256", "nn", 256, 48, 256, true));
        // Tiny.
        shapes.add(new Shape("64x64x64", "nt nn tn", 64, 64, 64, true));
        shapes.add(new Shape("16x16x16", "nt nn tn", 16, 16, 16, true));
        shapes.add(new Shape("7x9x5", "nt nn tn", 7, 9, 5, true));
        shapes.add(new Shape("1x256x256", "nt nn tn", 1, 256, 256, true));
        shapes.add(new Shape("256x1x256", "nt nn tn", 256, 1, 256, true));
        shapes.add(new Shape("256x256x1", "nt nn tn", 256, 256, 1, true));

        System.out.printf(Locale.ROOT, "species %s, %d samples (median GFLOP/s; min-max in brackets)%n", S, samples);
        System.out.printf(Locale.ROOT, "%-30s %-3s %22s %22s %22s%n", "shape MxNxK", "op", "1 thread", "2 threads",
                "naive 1 thread");
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
                    System.out.printf(Locale.ROOT, "%-30s %-3s %22s %22s %22s%n", s.label(), kind, r1, r2, r3);
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
