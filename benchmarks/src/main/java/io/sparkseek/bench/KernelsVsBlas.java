package io.sparkseek.bench;

import io.sparkseek.model.config.ModelConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Our GEMMs on the model's shapes, timed the simple way, for comparison with numpy/OpenBLAS in another process: per
 * case, {@link Fp8GemmBenchmark}'s setup (random operands, FP8 quantized once, JIT warm-up until stable), then
 * {@code samples} samples of at least {@code sampleMs} ms, GFLOP/s = 2·M·N·K·calls / time, median of the samples.
 * One JSON line per case on stdout.
 *
 * <p>The cases are every FP8 Linear of {@link GemmShapes} plus {@code lm_head} (hidden → vocab over all tokens, FP32
 * only: spec §8.1 keeps it out of FP8), each as fprop, dgrad and wgrad. {@code --list} prints the cases (name, op,
 * M, N, K, per step) as JSON lines instead, which is what the numpy side times.
 *
 * <p>{@code --serve} is what {@code scripts/bench-kernels} uses: the host's CPU speed drifts (up to 2× over seconds
 * here), so whole runs of one side after the other measure the drift as much as the kernels. In serve mode this
 * process reads requests {@code IMPL SHAPE OP MS} on stdin, one per line, and answers each with one JSON line
 * {@code {"gflops": …, "gflops_cpu": …}} after timing one sample of at least MS ms ({@code bench/kernels_vs_blas.py}
 * alternates such samples with numpy's, case by case); {@code gflops_cpu} divides by the calling thread's CPU time
 * instead of the wall time, so that time the thread spent waiting for a core (other jobs on the 2 shared cores)
 * does not count. With {@code --threads 1} the GEMM runs on the calling thread. A case is set up (operands, JIT warm-up) when first asked for, and kept
 * until another case is asked for.
 *
 * <pre>
 * KernelsVsBlas [--list] [--impls fp32,java] [--threads 1] [--samples 5] [--sample-ms 200] [--shapes a,b]
 * KernelsVsBlas --serve [--threads 1]
 * </pre>
 */
public final class KernelsVsBlas {
    /** The three GEMMs of a Linear. */
    static final List<String> OPS = List.of("fprop", "dgrad", "wgrad");
    /** The Linear that stays FP32 and is benchmarked here only for {@code fp32}. */
    static final String LM_HEAD = "lm_head";

    private KernelsVsBlas() {
    }

    /** One GEMM to time: a Linear and one of its ops. */
    record Case(GemmShapes.Linear linear, String op) {
        int[] mnk() {
            return linear.mnk(op);
        }

        String json() {
            int[] d = mnk();
            return String.format(Locale.ROOT, "{\"shape\": \"%s\", \"op\": \"%s\", \"m\": %d, \"n\": %d, \"k\": %d, "
                    + "\"per_step\": %d}", linear.name(), op, d[0], d[1], d[2], linear.perStep());
        }
    }

    /**
     * The cases of config {@code c} at {@code tokens} tokens: its FP8 Linears (shared-expert ones left out, their
     * shapes equal q_a_proj's and o_proj's) and {@code lm_head}, in model order, each with fprop, dgrad and wgrad.
     */
    static List<Case> cases(ModelConfig c, int tokens, List<String> only) {
        Map<String, GemmShapes.Linear> linears = new LinkedHashMap<>(GemmShapes.of(c, tokens));
        linears.keySet().retainAll(Arrays.asList(GemmShapes.BENCHMARKED.split(",")));
        linears.put(LM_HEAD, new GemmShapes.Linear(LM_HEAD, tokens, c.hiddenSize(), c.vocabSize(), 1,
                "hidden -> vocab, FP32 only"));
        List<Case> out = new ArrayList<>();
        for (GemmShapes.Linear l : linears.values()) {
            if (only.isEmpty() || only.contains(l.name())) {
                for (String op : OPS) {
                    out.add(new Case(l, op));
                }
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--shapes " + only + " matches none of " + linears.keySet());
        }
        return out;
    }

    /** The median of {@code xs} (the mean of the two middle values for an even count). */
    static double median(double[] xs) {
        if (xs.length == 0) {
            throw new IllegalArgumentException("median of no samples");
        }
        double[] s = xs.clone();
        Arrays.sort(s);
        int h = s.length / 2;
        return s.length % 2 == 1 ? s[h] : (s[h - 1] + s[h]) / 2;
    }

    public static void main(String[] args) throws IOException {
        boolean list = false;
        boolean serve = false;
        List<String> impls = List.of("fp32", "java");
        int threads = 1;
        int samples = 5;
        int sampleMs = 200;
        List<String> shapes = List.of();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--list") || a.equals("--serve")) {
                list |= a.equals("--list");
                serve |= a.equals("--serve");
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value (or is unknown: use --list, --impls, --threads,"
                        + " --samples, --sample-ms, --shapes)");
            }
            String v = args[++i];
            switch (a) {
                case "--impls" -> impls = List.of(v.split(","));
                case "--threads" -> threads = Integer.parseInt(v);
                case "--samples" -> samples = Integer.parseInt(v);
                case "--sample-ms" -> sampleMs = Integer.parseInt(v);
                case "--shapes" -> shapes = List.of(v.split(","));
                default -> throw new IllegalArgumentException("unknown option " + a + ": use --list, --impls, "
                        + "--threads, --samples, --sample-ms, --shapes");
            }
        }
        if (threads < 1 || samples < 1 || sampleMs < 1) {
            throw new IllegalArgumentException("--threads, --samples and --sample-ms must be >= 1");
        }
        ModelConfig cfg = ModelConfig.read(GemmShapes.configPath());
        List<Case> cases = cases(cfg, GemmShapes.BATCH * GemmShapes.SEQ, shapes);
        if (list) {
            cases.forEach(c -> System.out.println(c.json()));
            return;
        }
        if (serve) {
            serve(cases, threads);
            return;
        }
        for (String impl : impls) {
            for (Case c : cases) {
                if (!impl.equals("fp32") && c.linear().name().equals(LM_HEAD)) {
                    continue;
                }
                System.out.println(time(c, impl, threads, samples, sampleMs));
                System.out.flush();
            }
        }
    }

    /** CPU time of the calling thread: with {@code --threads 1} the GEMM runs on it (see the class comment). */
    private static final java.lang.management.ThreadMXBean THREAD_CPU =
            java.lang.management.ManagementFactory.getThreadMXBean();

    /** Answers {@code IMPL SHAPE OP MS} requests on stdin with one timed sample each (see the class comment). */
    private static void serve(List<Case> cases, int threads) throws IOException {
        java.io.BufferedReader in = new java.io.BufferedReader(
                new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));
        Fp8GemmBenchmark current = null;
        String currentKey = null;
        try {
            for (String line; (line = in.readLine()) != null; ) {
                String[] f = line.trim().split("\\s+");
                if (f.length != 4) {
                    throw new IllegalArgumentException("serve: expected 'IMPL SHAPE OP MS', got '" + line + "'");
                }
                Case c = cases.stream().filter(x -> x.linear().name().equals(f[1]) && x.op().equals(f[2]))
                        .findFirst().orElseThrow(() -> new IllegalArgumentException("serve: no case " + f[1] + " "
                                + f[2]));
                String key = f[0] + " " + f[1] + " " + f[2];
                if (!key.equals(currentKey)) {
                    if (current != null) {
                        current.tearDown();
                    }
                    current = setUp(c, f[0], threads);
                    currentKey = key;
                }
                int[] d = c.mnk();
                double gflop = 2.0 * d[0] * d[1] * d[2] * 1e-9;
                long cpu0 = THREAD_CPU.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                double rate = sample(current, gflop, Integer.parseInt(f[3]));
                double calls = rate * (System.nanoTime() - t0) * 1e-9 / gflop;
                long cpu = THREAD_CPU.getCurrentThreadCpuTime() - cpu0;
                System.out.println(String.format(Locale.ROOT, "{\"gflops\": %.3f, \"gflops_cpu\": %.3f}", rate,
                        gflop * calls / (cpu * 1e-9)));
                System.out.flush();
            }
        } finally {
            if (current != null) {
                current.tearDown();
            }
        }
    }

    private static Fp8GemmBenchmark setUp(Case c, String impl, int threads) {
        Fp8GemmBenchmark b = new Fp8GemmBenchmark();
        b.op = c.op();
        b.backend = impl;
        b.threads = threads;
        b.shape = c.linear().name();
        b.setup(c.linear());
        return b;
    }

    /** GFLOP/s of one sample: calls for at least {@code sampleMs} ms. */
    private static double sample(Fp8GemmBenchmark b, double gflopPerCall, int sampleMs) {
        long t0 = System.nanoTime();
        long n = 0;
        long elapsed;
        do {
            b.call();
            n++;
            elapsed = System.nanoTime() - t0;
        } while (elapsed < sampleMs * 1_000_000L);
        return gflopPerCall * n / (elapsed * 1e-9);
    }

    private static String time(Case c, String impl, int threads, int samples, int sampleMs) {
        int[] d = c.mnk();
        double gflop = 2.0 * d[0] * d[1] * d[2] * 1e-9;
        double[] rates = new double[samples];
        Fp8GemmBenchmark b = setUp(c, impl, threads);
        try {
            for (int s = 0; s < samples; s++) {
                rates[s] = sample(b, gflop, sampleMs);
            }
        } finally {
            b.tearDown();
        }
        String head = c.json();
        return head.substring(0, head.length() - 1) + String.format(Locale.ROOT, ", \"impl\": \"%s\", \"threads\": %d,"
                + " \"gflops\": %.2f, \"samples\": %s}", impl.equals("fp32") ? "fp32" : "fp8-" + impl, threads,
                median(rates), Arrays.toString(Arrays.stream(rates).map(r -> Math.round(r * 10) / 10.0).toArray()));
    }
}
