package io.sparkseek.model.kernel;

import io.sparkseek.model.fp8.QuantizedMatrix;
import java.util.Locale;
import java.util.Random;

/**
 * Microbenchmark of {@link AparapiBackend} (not a test): GFLOP/s of the three FP8 GEMMs (2·M·N·K per call) and
 * the quantization time, beside {@link JavaFp8Gemm} at 1 and 2 threads; best of several timed repetitions after
 * warm-up (Aparapi copies every operand to the device and back on each call, which is included).
 *
 * <pre>
 * mvn -o -pl model-core test-compile
 * java --add-modules=jdk.incubator.vector \
 *     -cp "model-core/target/classes:model-core/target/test-classes:$(cat cp.txt)" \
 *     io.sparkseek.model.kernel.AparapiBench [reps] [M N K]
 * </pre>
 * with {@code cp.txt} from {@code mvn -o -pl model-core dependency:build-classpath -Dmdep.outputFile=cp.txt}.
 */
public final class AparapiBench {

    private interface Call {
        void run();
    }

    private AparapiBench() {
    }

    public static void main(String[] args) {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int m = args.length > 3 ? Integer.parseInt(args[1]) : 2048;
        int n = args.length > 3 ? Integer.parseInt(args[2]) : 512;
        int k = args.length > 3 ? Integer.parseInt(args[3]) : 512;
        Random rnd = new Random(1);
        float[] xf = gaussian(rnd, m * k);
        float[] wf = gaussian(rnd, n * k);
        float[] dyf = gaussian(rnd, m * n);
        QuantizedMatrix x = QuantizedMatrix.quantize(xf, m, k, 1, 128, false);
        QuantizedMatrix w = QuantizedMatrix.quantize(wf, n, k, 128, 128, false);
        QuantizedMatrix dy = QuantizedMatrix.quantize(dyf, m, n, 1, 128, false);
        QuantizedMatrix dyT = QuantizedMatrix.quantize(dyf, m, n, 128, 1, false);
        QuantizedMatrix xT = QuantizedMatrix.quantize(xf, m, k, 128, 1, false);
        float[] y = new float[m * n];
        float[] dx = new float[m * k];
        float[] dw = new float[n * k];
        double flops = 2.0 * m * n * k;
        try (AparapiBackend cl = AparapiBackend.open(null); ComputePool one = new ComputePool(1);
             ComputePool two = new ComputePool(2)) {
            System.out.printf(Locale.ROOT, "%s, %dx%dx%d (MxNxK), best of %d%n", cl.name(), m, n, k, reps);
            report("fprop", flops, reps, () -> cl.fprop(null, x, w, y), () -> JavaFp8Gemm.fprop(one, x, w, y),
                    () -> JavaFp8Gemm.fprop(two, x, w, y));
            report("dgrad", flops, reps, () -> cl.dgrad(null, dy, w, dx), () -> JavaFp8Gemm.dgrad(one, dy, w, dx),
                    () -> JavaFp8Gemm.dgrad(two, dy, w, dx));
            report("wgrad", flops, reps, () -> cl.wgrad(null, dyT, xT, dw), () -> JavaFp8Gemm.wgrad(one, dyT, xT, dw),
                    () -> JavaFp8Gemm.wgrad(two, dyT, xT, dw));
            double q = best(reps, () -> cl.quantize(null, xf, m, k, 1, 128, false));
            double qj = best(reps, () -> QuantizedMatrix.quantize(xf, m, k, 1, 128, false));
            System.out.printf(Locale.ROOT, "quantize %dx%d 1x128: opencl %.1f ms, QuantizedMatrix %.1f ms%n", m, k,
                    q * 1e3, qj * 1e3);
        }
    }

    private static void report(String what, double flops, int reps, Call cl, Call java1, Call java2) {
        double tc = best(reps, cl);
        double t1 = best(reps, java1);
        double t2 = best(reps, java2);
        System.out.printf(Locale.ROOT, "%s: opencl %.2f GFLOP/s; JavaFp8Gemm 1 thread %.1f, 2 threads %.1f%n", what,
                flops / tc / 1e9, flops / t1 / 1e9, flops / t2 / 1e9);
    }

    /** Best wall time in seconds of {@code reps} calls after two warm-up calls. */
    private static double best(int reps, Call call) {
        call.run();
        call.run();
        double best = Double.MAX_VALUE;
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            call.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }

    private static float[] gaussian(Random rnd, int len) {
        float[] v = new float[len];
        for (int i = 0; i < len; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }
}
