package io.sparkseek.bench;

import io.sparkseek.model.fp8.QuantizedMatrix;
import io.sparkseek.model.kernel.ComputeBackend;
import io.sparkseek.model.kernel.ComputePool;
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
 * E4M3 quantization through a backend's {@link ComputeBackend#quantize}, on the small config's largest operands:
 * {@code act_1x128}, an activation {@code [2048, 512]} (dense MLP input of down_proj) in 1×128 tiles, and
 * {@code weight_128x128}, a weight {@code [512, 256]} (dense gate/up) in 128×128 blocks. Throughput mode; the
 * secondary metric {@code gbyte} is GB/s of FP32 input read ({@code 4·rows·cols} bytes per call), and
 * {@code perCpuSecond} GB per CPU-second of the process ({@link CpuRate}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class QuantizeBenchmark {

    /** {@code act_1x128} or {@code weight_128x128}. */
    @Param({"act_1x128", "weight_128x128"})
    public String input;

    /** {@code java} or {@code opencl}. */
    @Param({"java", "opencl"})
    public String backend;

    @Param({"1", "2"})
    public int threads;

    private ComputePool pool;
    private ComputeBackend fp8;
    private float[] x;
    private int rows;
    private int cols;
    private int tileRows;
    private int tileCols;
    private double gbytePerCall;

    /** GB of input quantized in the iteration: reported per second, i.e. GB/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Bytes {
        public double gbyte;

        @Setup(Level.Iteration)
        public void reset() {
            gbyte = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        int g = QuantizedMatrix.GROUP_SIZE;
        switch (input) {
            case "act_1x128" -> {
                rows = GemmShapes.BATCH * GemmShapes.SEQ;
                cols = 512;
                tileRows = 1;
                tileCols = g;
            }
            case "weight_128x128" -> {
                rows = 512;
                cols = 256;
                tileRows = g;
                tileCols = g;
            }
            default -> throw new IllegalArgumentException("input '" + input + "': use act_1x128 or weight_128x128");
        }
        fp8 = BenchBackends.fp8(backend);
        pool = new ComputePool(threads);
        Random rnd = new Random(7);
        x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        gbytePerCall = 4.0 * rows * cols * 1e-9;
        JitWarmup.run(backend + " quantize " + input + ", " + threads + " threads",
                () -> fp8.quantize(pool, x, rows, cols, tileRows, tileCols, false));
    }

    @Benchmark
    public QuantizedMatrix quantize(Bytes bytes, CpuRate cpu) {
        long cpu0 = CpuRate.now();
        QuantizedMatrix q = fp8.quantize(pool, x, rows, cols, tileRows, tileCols, false);
        cpu.add(gbytePerCall, cpu0);
        bytes.gbyte += gbytePerCall;
        return q;
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
