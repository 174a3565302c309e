package io.sparkseek.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;

import com.aparapi.Kernel;
import com.aparapi.Range;
import com.aparapi.device.Device;
import com.aparapi.device.OpenCLDevice;
import com.aparapi.internal.kernel.KernelManager;
import io.sparkseek.model.fp8.Fp8Format;
import io.sparkseek.model.fp8.Fp8Gemm;
import io.sparkseek.model.fp8.QuantizedMatrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link AparapiBackend} on the machine's OpenCL device (POCL here and in CI; a GPU if one is visible) against
 * the scalar references: quantization bit for bit against {@link QuantizedMatrix#quantize} (three training tilings,
 * power-of-two scales on and off, ragged shapes, all-zero tiles, signed zeros, every E4M3 rounding tie, saturation,
 * NaN/Inf errors), the three GEMMs within 1e-6 max-norm relative error of {@link Fp8Gemm} (bit for bit on a CPU
 * device) on ragged and larger shapes; proof that the kernels ran on OpenCL and that a Java fallback is an error;
 * four threads sharing one backend; {@link ComputeBackends} parsing and selection.
 *
 * <p>Without an OpenCL device the class fails (it does not skip): install {@code pocl-opencl-icd}.
 */
class AparapiBackendTest {

    private static final float E4M3_MAX = 448f;
    /** (rows, cols) of the quantization shapes; every training tiling runs on every shape. */
    private static final int[][] SHAPES = {{160, 512}, {130, 257}, {1, 1}, {3, 300}, {300, 5}, {128, 128}};
    private static final int[][] TILES = {{1, 128}, {128, 1}, {128, 128}};
    /** (M, N, K) of the GEMM shapes: ragged, degenerate, then one larger. */
    private static final int[][] GEMMS = {{1, 1, 1}, {5, 3, 1}, {1, 200, 130}, {7, 1, 300}, {130, 77, 257},
        {33, 260, 129}, {65, 129, 128}, {3, 4, 0}, {256, 512, 1024}};
    private static final double GEMM_TOLERANCE = 1e-6;
    /** Written past the output; must survive. */
    private static final float SENTINEL = 12345f;

    private static AparapiBackend backend;

    @BeforeAll
    static void open() {
        try {
            backend = AparapiBackend.open(null);
        } catch (IllegalStateException e) {
            fail("no usable OpenCL device: install pocl-opencl-icd (apt-get install pocl-opencl-icd; scripts/test"
                    + " does it) to run the OpenCL backend tests. " + e.getMessage(), e);
        }
    }

    @AfterAll
    static void close() {
        if (backend != null) {
            backend.close();
        }
    }

    // ---------------------------------------------------------------- where the kernels ran

    @Test
    void kernelsRanOnTheOpenClDeviceNotInJava() {
        float[] x = lognormal(64 * 300, 1);
        QuantizedMatrix q = backend.quantize(null, x, 64, 300, 1, 128, false);
        QuantizedMatrix w = backend.quantize(null, x, 64, 300, 128, 128, false);
        backend.fprop(null, q, w, new float[64 * 64]);

        OpenCLDevice device = backend.device();
        assertThat(backend.name()).startsWith("opencl:");
        for (Class<? extends Kernel> k : List.of(Fp8QuantizeKernel.class, Fp8GemmKernel.class)) {
            // Aparapi's per-class profile lists every device a run of the class started on; a fallback adds a
            // Java device (or another OpenCL one), and marks ours failed.
            List<Device> devices = new ArrayList<>(KernelManager.instance().getProfile(k).getDevices());
            assertThat(devices).as("devices %s ran on", k.getSimpleName()).isNotEmpty()
                    .allSatisfy(d -> assertThat(d).isInstanceOf(OpenCLDevice.class).isEqualTo(device));
        }
        assertThat(KernelManager.instance().getPreferences(new Fp8GemmKernel()).getFailedDevices()).isEmpty();
        assertThat(KernelManager.instance().getPreferences(new Fp8QuantizeKernel()).getFailedDevices()).isEmpty();
    }

    /** A kernel Aparapi cannot translate: it allocates a String. */
    static final class UntranslatableKernel extends Kernel {
        static final int SIZE = 64;
        final int[] out = new int[SIZE];

        @Override
        public void run() {
            out[getGlobalId()] = String.valueOf(getGlobalId()).length();
        }
    }

    @Test
    void javaFallbackIsAnErrorNotASilentSlowPath() {
        UntranslatableKernel k = new UntranslatableKernel();
        Range range = Range.create(backend.device(), UntranslatableKernel.SIZE);
        Throwable thrown = catchThrowable(() -> backend.execute(k, range));
        // Aparapi did compute it, in its Java thread pool: exactly what the check is for.
        assertThat(k.out[UntranslatableKernel.SIZE - 1]).isEqualTo(2);
        assertThat(KernelManager.instance().getProfile(UntranslatableKernel.class).getDevices())
                .anySatisfy(d -> assertThat(d).isNotInstanceOf(OpenCLDevice.class));
        assertThat(thrown).isInstanceOf(IllegalStateException.class).hasMessageContaining("fell back from OpenCL")
                .hasMessageContaining("sparkseek.compute.backend=java");
        // The mark stays: the next call fails before running.
        assertThatThrownBy(() -> backend.execute(k, range)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("fell back from OpenCL");
        k.dispose();
    }

    // ---------------------------------------------------------------- quantization

    @Test
    void quantizationIsBitIdenticalToTheReference() {
        long seed = 10;
        for (int[] shape : SHAPES) {
            for (int[] tile : TILES) {
                for (boolean pow2 : new boolean[] {false, true}) {
                    int rows = shape[0];
                    int cols = shape[1];
                    // A layer buffer longer than the shape, with NaN past it: ignored.
                    float[] x = Arrays.copyOf(lognormal(rows * cols, seed++), rows * cols + 7);
                    Arrays.fill(x, rows * cols, x.length, Float.NaN);
                    assertSameQuantization(x, rows, cols, tile[0], tile[1], pow2);
                    assertSameQuantization(gaussian(rows * cols, seed++), rows, cols, tile[0], tile[1], pow2);
                }
            }
        }
    }

    @Test
    void raggedShapesGetTheRightScaleGrid() {
        QuantizedMatrix q = backend.quantize(null, gaussian(160 * 512, 3), 160, 512, 128, 128, false);
        assertThat(q.scaleRows()).isEqualTo(2);
        assertThat(q.scaleCols()).isEqualTo(4);
        QuantizedMatrix r = backend.quantize(null, gaussian(130 * 257, 4), 130, 257, 128, 1, true);
        assertThat(r.scaleRows()).isEqualTo(2);
        assertThat(r.scaleCols()).isEqualTo(257);
        QuantizedMatrix e = backend.quantize(null, new float[0], 0, 5, 1, 128, false);
        assertThat(e.codes()).isEmpty();
    }

    @Test
    void allZeroTilesAndSignedZeros() {
        float[] x = gaussian(2 * 256, 5);
        for (int c = 0; c < 128; c++) {
            x[c] = c % 2 == 0 ? 0f : -0f; // tile (0, 0): all zeros, half negative
        }
        x[256 + 3] = -0f;
        for (boolean pow2 : new boolean[] {false, true}) {
            QuantizedMatrix q = assertSameQuantization(x, 2, 256, 1, 128, pow2);
            float floor = QuantizedMatrix.AMAX_FLOOR / E4M3_MAX;
            assertThat(q.scale(0, 0)).isEqualTo(pow2 ? QuantizedMatrix.ceilPowerOfTwo(floor) : floor);
            assertThat(q.codes()[0]).isEqualTo((byte) 0);
            assertThat(q.codes()[1]).isEqualTo((byte) 0x80);
            assertThat(q.codes()[256 + 3]).isEqualTo((byte) 0x80);
        }
    }

    /**
     * Every E4M3 rounding tie (the midpoint of two neighbouring codes, where RNE picks the even one), its two float
     * neighbours, both signs, subnormal codes and float subnormals; each 1×128 tile also holds 448 so its scale is
     * exactly 1 and x / s is the crafted value. The amax element of every tile encodes to ±448 (saturation edge).
     */
    @Test
    void roundingTiesSubnormalsAndSaturation() {
        Fp8Format f = Fp8Format.E4M3;
        List<Float> values = new ArrayList<>();
        for (int code = 0; code < f.maxCode(); code++) {
            float mid = (f.decode(code) + f.decode(code + 1)) / 2; // exact: one more bit
            for (float v : new float[] {mid, Math.nextDown(mid), Math.nextUp(mid), f.decode(code)}) {
                values.add(v);
                values.add(-v);
            }
        }
        for (float v : new float[] {Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 1e-30f, 0x1p-10f, 0x1p-11f,
            0x1.8p-10f, 447.99997f, -448f}) {
            values.add(v);
        }
        int perRow = 127;
        int rows = (values.size() + perRow - 1) / perRow;
        float[] x = new float[rows * 128];
        for (int i = 0; i < values.size(); i++) {
            x[(i / perRow) * 128 + 1 + i % perRow] = values.get(i);
        }
        for (int r = 0; r < rows; r++) {
            x[r * 128] = r % 2 == 0 ? E4M3_MAX : -E4M3_MAX;
        }
        QuantizedMatrix q = assertSameQuantization(x, rows, 128, 1, 128, false);
        for (int r = 0; r < rows; r++) {
            assertThat(q.scale(r, 0)).isEqualTo(1f);
            assertThat(q.codes()[r * 128] & 0x7F).isEqualTo(f.maxCode());
        }
        // Tiles whose amax / s rounds above 448 (the scale is rounded) still saturate to 448.
        SplittableRandom rnd = new SplittableRandom(6);
        float[] y = new float[64 * 128];
        for (int r = 0; r < 64; r++) {
            y[r * 128 + rnd.nextInt(128)] = (float) (rnd.nextDouble() * 1e4);
        }
        QuantizedMatrix s = assertSameQuantization(y, 64, 128, 1, 128, false);
        for (int r = 0; r < 64; r++) {
            int max = 0;
            for (int c = 0; c < 128; c++) {
                max = Math.max(max, s.codes()[r * 128 + c] & 0x7F);
            }
            assertThat(max).isEqualTo(f.maxCode());
        }
    }

    /** The kernel's value-based encoder against {@link Fp8Format#encode} on floats spread over all binades. */
    @Test
    void kernelEncoderMatchesTheBitLevelEncoderInJava() {
        Fp8QuantizeKernel k = new Fp8QuantizeKernel();
        for (long bits = 0; bits < 0x7F80_0000L; bits += 97) {
            float a = Float.intBitsToFloat((int) bits);
            int expected = Fp8Format.E4M3.encode(a, true);
            if (k.e4m3Magnitude(a) != expected) {
                fail("e4m3Magnitude(" + a + ") = " + k.e4m3Magnitude(a) + ", Fp8Format gives " + expected);
            }
        }
        k.dispose();
    }

    @Test
    void nanAndInfGiveTheReferenceError() {
        float[][] bad = {{Float.NaN}, {Float.POSITIVE_INFINITY}, {Float.NEGATIVE_INFINITY}};
        for (int[] tile : TILES) {
            for (float[] v : bad) {
                float[] x = gaussian(3 * 300, 7);
                x[2 * 300 + 200] = v[0];
                x[1 * 300 + 250] = v[0]; // two bad tiles: the error names the first in row-major tile order
                Throwable expected = catchThrowable(() -> QuantizedMatrix.quantize(x, 3, 300, tile[0], tile[1], false));
                assertThat(expected).isInstanceOf(IllegalArgumentException.class);
                assertThatThrownBy(() -> backend.quantize(null, x, 3, 300, tile[0], tile[1], false))
                        .isInstanceOf(IllegalArgumentException.class).hasMessage(expected.getMessage());
            }
        }
        // The backend still works after the errors.
        assertSameQuantization(gaussian(3 * 300, 8), 3, 300, 1, 128, false);
    }

    @Test
    void quantizationPreconditionsMatchTheReference() {
        assertThatThrownBy(() -> backend.quantize(null, new float[5], 2, 3, 1, 128, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected [2, 3]");
        assertThatThrownBy(() -> backend.quantize(null, new float[6], 2, 3, 0, 128, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be positive");
    }

    private static QuantizedMatrix assertSameQuantization(float[] x, int rows, int cols, int tileRows, int tileCols,
                                                          boolean pow2) {
        QuantizedMatrix expected = QuantizedMatrix.quantize(x, rows, cols, tileRows, tileCols, pow2);
        QuantizedMatrix actual = backend.quantize(null, x, rows, cols, tileRows, tileCols, pow2);
        String what = rows + "x" + cols + " in " + tileRows + "x" + tileCols + " tiles, pow2=" + pow2;
        assertThat(actual.rows()).isEqualTo(rows);
        assertThat(actual.cols()).isEqualTo(cols);
        assertThat(actual.tileRows()).isEqualTo(tileRows);
        assertThat(actual.tileCols()).isEqualTo(tileCols);
        for (int i = 0; i < expected.scales().length; i++) {
            if (Float.floatToRawIntBits(actual.scales()[i]) != Float.floatToRawIntBits(expected.scales()[i])) {
                fail(what + ": scale " + i + " is " + actual.scales()[i] + ", reference " + expected.scales()[i]);
            }
        }
        for (int i = 0; i < expected.codes().length; i++) {
            if (actual.codes()[i] != expected.codes()[i]) {
                fail(what + ": code " + i + " (x = " + x[i] + ") is " + (actual.codes()[i] & 0xFF) + ", reference "
                        + (expected.codes()[i] & 0xFF));
            }
        }
        return actual;
    }

    // ---------------------------------------------------------------- GEMMs

    /** fprop, dgrad and wgrad operands of one (M, N, K) shape, quantized by the reference. */
    private record Operands(int m, int n, int k, QuantizedMatrix x, QuantizedMatrix w, QuantizedMatrix dy,
                            QuantizedMatrix dyT, QuantizedMatrix xT) {

        static Operands of(int m, int n, int k, long seed) {
            float[] x = lognormal(m * k, seed);
            float[] w = gaussian(n * k, seed + 1);
            float[] dy = lognormal(m * n, seed + 2);
            return new Operands(m, n, k, QuantizedMatrix.quantize(x, m, k, 1, 128, false),
                    QuantizedMatrix.quantize(w, n, k, 128, 128, false),
                    QuantizedMatrix.quantize(dy, m, n, 1, 128, false),
                    QuantizedMatrix.quantize(dy, m, n, 128, 1, true),
                    QuantizedMatrix.quantize(x, m, k, 128, 1, true));
        }
    }

    @Test
    void gemmsMatchTheScalarReference() {
        boolean cpu = backend.device().getType() == Device.TYPE.CPU;
        long seed = 100;
        for (int[] s : GEMMS) {
            Operands o = Operands.of(s[0], s[1], s[2], seed += 3);
            String shape = o.m() + "x" + o.n() + "x" + o.k();
            assertGemm("fprop " + shape, Fp8Gemm.fprop(o.x(), o.w()), y -> backend.fprop(null, o.x(), o.w(), y), cpu);
            assertGemm("dgrad " + shape, Fp8Gemm.dgrad(o.dy(), o.w()), y -> backend.dgrad(null, o.dy(), o.w(), y),
                    cpu);
            assertGemm("wgrad " + shape, Fp8Gemm.wgrad(o.dyT(), o.xT()), y -> backend.wgrad(null, o.dyT(), o.xT(), y),
                    cpu);
        }
    }

    private interface Into {
        void run(float[] out);
    }

    /**
     * Runs {@code call} into a buffer longer than needed, pre-filled with NaN (must be overwritten) and a
     * sentinel past the end (must survive); ≤ 1e-6 max-norm relative error, bit for bit when {@code exact}.
     */
    private static void assertGemm(String what, float[] expected, Into call, boolean exact) {
        float[] out = new float[expected.length + 5];
        Arrays.fill(out, 0, expected.length, Float.NaN);
        Arrays.fill(out, expected.length, out.length, SENTINEL);
        call.run(out);
        double maxRef = 0;
        double maxDiff = 0;
        int differing = 0;
        for (int i = 0; i < expected.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
            maxDiff = Math.max(maxDiff, Math.abs((double) out[i] - expected[i]));
            if (Float.floatToRawIntBits(out[i]) != Float.floatToRawIntBits(expected[i])) {
                differing++;
            }
        }
        assertThat(maxDiff).as(what + ": max |diff| (max |ref| = %s)", maxRef).isLessThanOrEqualTo(
                GEMM_TOLERANCE * maxRef);
        if (exact) {
            assertThat(differing).as(what + ": elements not bit-identical on a CPU device").isZero();
        }
        for (int i = expected.length; i < out.length; i++) {
            assertThat(out[i]).as(what + ": past the output").isEqualTo(SENTINEL);
        }
    }

    @Test
    void gemmPreconditions() {
        Operands o = Operands.of(4, 5, 130, 9);
        assertThatThrownBy(() -> backend.fprop(null, o.xT(), o.w(), new float[20]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fprop X must be quantized in 1x128");
        assertThatThrownBy(() -> backend.fprop(null, o.x(), o.w(), new float[19]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("output has 19 elements");
        assertThatThrownBy(() -> backend.dgrad(null, o.x(), o.w(), new float[4 * 130]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inner dimensions differ");
        assertThatThrownBy(() -> backend.wgrad(null, o.dy(), o.xT(), new float[5 * 130]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wgrad dY must be quantized");
    }

    // ---------------------------------------------------------------- threads

    @Test
    void fourThreadsSharingOneBackendGetTheSerialResults() throws Exception {
        int threads = 4;
        int reps = 3;
        Operands[] ops = new Operands[threads];
        float[][] inputs = new float[threads][];
        float[][][] expected = new float[threads][][];
        QuantizedMatrix[] expectedQ = new QuantizedMatrix[threads];
        for (int t = 0; t < threads; t++) {
            ops[t] = Operands.of(70 + t, 150 + 3 * t, 260 - t, 1000 + t);
            inputs[t] = lognormal(ops[t].m() * ops[t].k(), 2000 + t);
            expected[t] = runAll(ops[t]);
            expectedQ[t] = backend.quantize(null, inputs[t], ops[t].m(), ops[t].k(), 1, 128, false);
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int r = 0; r < reps; r++) {
                        Operands o = ops[id];
                        QuantizedMatrix q = backend.quantize(null, inputs[id], o.m(), o.k(), 1, 128, false);
                        assertThat(q.codes()).isEqualTo(expectedQ[id].codes());
                        assertThat(q.scales()).isEqualTo(expectedQ[id].scales());
                        float[][] got = runAll(o);
                        for (int g = 0; g < got.length; g++) {
                            assertThat(got[g]).as("thread %d, rep %d, gemm %d", id, r, g).isEqualTo(expected[id][g]);
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static float[][] runAll(Operands o) {
        float[] y = new float[o.m() * o.n()];
        float[] dx = new float[o.m() * o.k()];
        float[] dw = new float[o.n() * o.k()];
        backend.fprop(null, o.x(), o.w(), y);
        backend.dgrad(null, o.dy(), o.w(), dx);
        backend.wgrad(null, o.dyT(), o.xT(), dw);
        return new float[][] {y, dx, dw};
    }

    // ---------------------------------------------------------------- ComputeBackends

    @Test
    void backendKindParsing() {
        assertThat(ComputeBackends.Kind.parse("opencl")).isEqualTo(ComputeBackends.Kind.OPENCL);
        assertThat(ComputeBackends.Kind.parse(" OpenCL ")).isEqualTo(ComputeBackends.Kind.OPENCL);
        assertThat(ComputeBackends.Kind.parse("JAVA")).isEqualTo(ComputeBackends.Kind.JAVA);
        assertThat(ComputeBackends.Kind.parse("auto")).isEqualTo(ComputeBackends.Kind.AUTO);
        assertThat(ComputeBackends.Kind.parse("")).isEqualTo(ComputeBackends.Kind.AUTO);
        assertThat(ComputeBackends.Kind.parse(null)).isEqualTo(ComputeBackends.Kind.AUTO);
        assertThatThrownBy(() -> ComputeBackends.Kind.parse("cuda")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'cuda'").hasMessageContaining("auto, opencl or java");
    }

    @Test
    void backendSelection() {
        assertThat(ComputeBackends.create(ComputeBackends.Kind.JAVA, null)).isSameAs(JavaBackend.INSTANCE);
        ComputeBackend auto = ComputeBackends.create(ComputeBackends.Kind.AUTO, null);
        try {
            if (AparapiBackend.gpuAvailable()) {
                assertThat(auto).isInstanceOf(AparapiBackend.class);
            } else {
                assertThat(auto).isSameAs(JavaBackend.INSTANCE);
            }
        } finally {
            auto.close();
        }

        ComputeBackend opencl = ComputeBackends.create(ComputeBackends.Kind.OPENCL, null);
        assertThat(opencl).isInstanceOf(AparapiBackend.class);
        assertThat(opencl.name()).startsWith("opencl:");
        opencl.close();
        assertThatThrownBy(() -> opencl.quantize(null, new float[4], 2, 2, 1, 128, false))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");

        assertThatThrownBy(() -> ComputeBackends.create(ComputeBackends.Kind.OPENCL, "gpu-a"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a device index");
        Throwable far = catchThrowable(() -> ComputeBackends.create(ComputeBackends.Kind.OPENCL, "99"));
        if (AparapiBackend.gpuAvailable()) {
            assertThat(far).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside");
        } else {
            assertThat(far).isInstanceOf(IllegalStateException.class).hasMessageContaining("OpenCL sees no GPU")
                    .hasMessageContaining("sparkseek.compute.backend=java");
        }
    }

    // ---------------------------------------------------------------- inputs

    private static float[] gaussian(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) normal(rnd);
        }
        return x;
    }

    /** exp(N(0, 3²)) with random signs and a few exact zeros: tiles with scales over many binades. */
    private static float[] lognormal(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            float v = rnd.nextInt(50) == 0 ? 0f : (float) Math.exp(3 * normal(rnd));
            x[i] = rnd.nextBoolean() ? v : -v;
        }
        return x;
    }

    private static double normal(SplittableRandom rnd) {
        double u = rnd.nextDouble(Double.MIN_NORMAL, 1);
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }
}
