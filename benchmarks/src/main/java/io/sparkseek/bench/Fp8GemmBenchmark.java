package io.sparkseek.bench;

import io.sparkseek.model.fp8.QuantizedMatrix;
import io.sparkseek.model.kernel.ComputeBackend;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.kernel.CpuGemm;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One GEMM of the small config's Linears (see {@link GemmShapes}), in FP32 or as the block-scaled FP8 GEMM of a
 * backend, with a compute pool of {@code threads} threads. Only the GEMM is timed: operands are random, and for FP8
 * quantized once in {@link #setup} with the backend's own quantizer, in the tiles the model uses (spec §8.2–§8.4);
 * setup then runs the GEMM until the JIT is done ({@link JitWarmup}), so JMH's warm-up iterations can be short.
 *
 * <ul>
 *   <li>{@code fprop} {@code Y = X·Wᵀ}: FP32 {@link CpuGemm#nt}; FP8 X 1×128, W 128×128 →
 *       {@link ComputeBackend#fprop}</li>
 *   <li>{@code dgrad} {@code dX = dY·W}: FP32 {@link CpuGemm#nn}; FP8 dY 1×128, W 128×128 →
 *       {@link ComputeBackend#dgrad}</li>
 *   <li>{@code wgrad} {@code dW = dYᵀ·X}: FP32 {@link CpuGemm#tn}; FP8 dY and X 128×1 →
 *       {@link ComputeBackend#wgrad}</li>
 * </ul>
 * Outputs are overwritten in both paths (the model's FP32 wgrad accumulates into the gradient instead, the same
 * kernel with one more read of C). Throughput mode: the primary score is GEMMs per second; the secondary metric
 * {@code gflop} is GFLOP/s ({@code 2·M·N·K} per GEMM), and {@code perCpuSecond} GFLOP per CPU-second of the process
 * ({@link CpuRate}: the figure that a job sharing the cores disturbs least).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Fp8GemmBenchmark {

    @Param({"fprop", "dgrad", "wgrad"})
    public String op;

    /** {@code fp32} (CpuGemm), {@code java} or {@code opencl} (FP8 backends). */
    @Param({"fp32", "java", "opencl"})
    public String backend;

    /** Threads of the {@link ComputePool}. */
    @Param({"1", "2"})
    public int threads;

    /** A Linear of {@link GemmShapes}; the defaults are {@link GemmShapes#BENCHMARKED}. */
    @Param({"q_a_proj", "q_b_proj", "kv_a_proj", "kv_b_proj", "o_proj", "dense_gate_up", "dense_down",
        "expert_gate_up", "expert_down"})
    public String shape;

    private static final int G = QuantizedMatrix.GROUP_SIZE;

    private ComputePool pool;
    private ComputeBackend fp8;
    private int kind;           // 0 fprop, 1 dgrad, 2 wgrad; +3 for FP8
    private int m;
    private int n;
    private int k;
    private double gflopPerCall;
    // FP32 operands (row-major, as Linear passes them) and output
    private float[] a;
    private float[] b;
    private float[] c;
    private int lda;
    private int ldb;
    // FP8 operands
    private QuantizedMatrix qa;
    private QuantizedMatrix qb;

    /** GFLOP done in the iteration: reported per second, i.e. GFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;

        @Setup(Level.Iteration)
        public void reset() {
            gflop = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        setup(GemmShapes.get(shape));
    }

    /** Setup for any Linear (e.g. {@code lm_head}, FP32 only, which {@link GemmShapes} does not list). */
    void setup(GemmShapes.Linear linear) {
        int t = linear.tokens();
        int in = linear.in();
        int out = linear.out();
        int[] d = linear.mnk(op);
        m = d[0];
        n = d[1];
        k = d[2];
        gflopPerCall = 2.0 * m * n * k * 1e-9;
        if (!backend.equals("fp32")) {
            fp8 = BenchBackends.fp8(backend);   // throws where the backend is unavailable
        }
        pool = new ComputePool(threads);
        Random rnd = new Random(42);
        // The two operands as the Linear holds them: fprop X[t,in], W[out,in]; dgrad dY[t,out], W[out,in];
        // wgrad dY[t,out], X[t,in].
        switch (op) {
            case "fprop" -> {
                a = random(rnd, t * in, 1f);
                b = random(rnd, out * in, 0.05f);
                lda = in;
                ldb = in;
                kind = 0;
            }
            case "dgrad" -> {
                a = random(rnd, t * out, 1e-3f);
                b = random(rnd, out * in, 0.05f);
                lda = out;
                ldb = in;
                kind = 1;
            }
            case "wgrad" -> {
                a = random(rnd, t * out, 1e-3f);
                b = random(rnd, t * in, 1f);
                lda = out;
                ldb = in;
                kind = 2;
            }
            default -> throw new IllegalArgumentException("op '" + op + "': use fprop, dgrad or wgrad");
        }
        c = new float[m * n];
        if (fp8 != null) {
            switch (kind) {
                case 0 -> {
                    qa = fp8.quantize(pool, a, t, in, 1, G, false);
                    qb = fp8.quantize(pool, b, out, in, G, G, false);
                }
                case 1 -> {
                    qa = fp8.quantize(pool, a, t, out, 1, G, false);
                    qb = fp8.quantize(pool, b, out, in, G, G, false);
                }
                default -> {
                    qa = fp8.quantize(pool, a, t, out, G, 1, false);
                    qb = fp8.quantize(pool, b, t, in, G, 1, false);
                }
            }
            kind += 3;
        }
        JitWarmup.run(backend + " " + op + " " + linear.name() + " " + m + "x" + n + "x" + k + ", " + threads
                + " threads", this::call);
    }

    private static float[] random(Random rnd, int size, float scale) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) rnd.nextGaussian() * scale;
        }
        return x;
    }

    @Benchmark
    public void gemm(Flops flops, CpuRate cpu) {
        long cpu0 = CpuRate.now();
        call();
        cpu.add(gflopPerCall, cpu0);
        flops.gflop += gflopPerCall;
    }

    /** One GEMM, as {@link #gemm} times it (also called by {@link KernelsVsBlas}). */
    void call() {
        switch (kind) {
            case 0 -> CpuGemm.nt(pool, m, n, k, a, 0, lda, b, 0, ldb, c, 0, n, false);
            case 1 -> CpuGemm.nn(pool, m, n, k, a, 0, lda, b, 0, ldb, c, 0, n, false);
            case 2 -> CpuGemm.tn(pool, m, n, k, a, 0, lda, b, 0, ldb, c, 0, n, false);
            case 3 -> fp8.fprop(pool, qa, qb, c);
            case 4 -> fp8.dgrad(pool, qa, qb, c);
            default -> fp8.wgrad(pool, qa, qb, c);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (fp8 != null) {
            fp8.close();
        }
        if (pool != null) {
            pool.close();
        }
    }
}
