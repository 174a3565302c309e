package io.sparkseek.model.kernel;

import com.aparapi.Kernel;
import com.aparapi.Range;
import com.aparapi.device.Device;
import com.aparapi.device.OpenCLDevice;
import com.aparapi.internal.kernel.KernelManager;
import io.sparkseek.model.fp8.Fp8Gemm;
import io.sparkseek.model.fp8.QuantizedMatrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.Supplier;

/**
 * The OpenCL backend: FP8 quantization ({@link Fp8QuantizeKernel}) and the three block-scaled GEMMs
 * ({@link Fp8GemmKernel}) as Aparapi kernels on one OpenCL device (spec §8.2–§8.4). Quantization is bit-identical
 * to {@link QuantizedMatrix#quantize}; the GEMMs follow {@link Fp8Gemm}'s default arithmetic (bit-identical on
 * POCL, see {@code docs/fp8.md}; a GPU compiler may fuse the promotion's multiply-add, within 1e-6 relative).
 *
 * <p><b>Device</b> ({@link #open}): the OpenCL GPU at index {@code gpuAddress} of Aparapi's GPU list (platform
 * order, then device order) when an address is given; with no address the first GPU, else the first OpenCL CPU
 * device (POCL); otherwise an exception that says what was looked for and how to fix it.
 *
 * <p><b>No silent Java fallback.</b> When Aparapi cannot translate, compile or run a kernel on OpenCL it logs a
 * warning, marks the device failed for that kernel class in its {@link KernelManager} preferences and runs the
 * kernel in a Java thread pool instead. Every execution here checks afterwards that its device is not in
 * {@code getFailedDevices()} and throws if it is ({@code Kernel.isRunningCL()} cannot tell: it reports the
 * preferred device, not where a run went). {@link #open} runs a small quantization and GEMM and compares them with
 * the references, so a broken device fails at start.
 *
 * <p><b>Threads.</b> Aparapi kernel instances hold their arguments in fields, so each call borrows instances from
 * a pool and returns them after; concurrent calls get their own instances (Aparapi caches the compiled program per
 * kernel class and device, so a new instance is cheap). The {@link ComputePool} argument is unused: the device
 * parallelizes. {@link #close()} disposes the kernels; call it when no call is running.
 */
public final class AparapiBackend implements ComputeBackend {

    /** Work-group size of the one-dimensional quantization passes. */
    private static final int QUANTIZE_GROUP = 64;
    /**
     * Serialises device enumeration and backend opening: Aparapi's native platform listing is not thread-safe (two
     * Spark tasks calling {@code OpenCLDevice.listDevices} at once crashed the JVM in libc, TaskBackendTest).
     */
    private static final Object OPENCL_LOCK = new Object();
    private static final String FIX = "install an OpenCL driver (for the CPU: apt-get install pocl-opencl-icd), or"
            + " set sparkseek.compute.backend=java";

    private final OpenCLDevice device;
    private final float[] lut;
    private final Pool<Fp8QuantizeKernel> quantizers;
    private final Pool<Fp8GemmKernel> gemms;
    private volatile boolean closed;

    private AparapiBackend(OpenCLDevice device) {
        this.device = device;
        this.lut = new float[256];
        for (int code = 0; code < lut.length; code++) {
            lut[code] = QuantizedMatrix.FORMAT.decode(code);
        }
        this.quantizers = new Pool<>(Fp8QuantizeKernel::new);
        this.gemms = new Pool<>(Fp8GemmKernel::new);
    }

    /**
     * Opens the backend on an OpenCL device: the GPU at index {@code gpuAddress} (e.g. the GPU address Spark gave
     * the task) when given; else the first GPU, else the first CPU device (POCL). Compiles the kernels and checks a
     * small quantization and GEMM against the references.
     *
     * @throws IllegalStateException when there is no usable device, with the fix in the message
     */
    public static AparapiBackend open(String gpuAddress) {
        synchronized (OPENCL_LOCK) {
            return openLocked(gpuAddress);
        }
    }

    private static AparapiBackend openLocked(String gpuAddress) {
        OpenCLDevice device = selectDevice(gpuAddress);
        int need = Fp8GemmKernel.THREADS * Fp8GemmKernel.THREADS;
        if (device.getMaxWorkGroupSize() < need) {
            throw new IllegalStateException("OpenCL device " + describe(device) + " allows work-groups of "
                    + device.getMaxWorkGroupSize() + " work-items, the FP8 GEMM kernel needs " + need + "; "
                    + "set sparkseek.compute.backend=java");
        }
        AparapiBackend backend = new AparapiBackend(device);
        try {
            backend.selfCheck();
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
        return backend;
    }

    /** Whether an OpenCL GPU is visible (false also when OpenCL itself is missing). */
    public static boolean gpuAvailable() {
        return !listDevices(Device.TYPE.GPU).isEmpty();
    }

    private static List<OpenCLDevice> listDevices(Device.TYPE type) {
        synchronized (OPENCL_LOCK) {
            try {
                List<OpenCLDevice> devices = OpenCLDevice.listDevices(type);
                return devices == null ? List.of() : devices;
            } catch (RuntimeException | LinkageError e) {
                // No libOpenCL, or Aparapi's native library does not load here: no device.
                return List.of();
            }
        }
    }

    private static OpenCLDevice selectDevice(String gpuAddress) {
        List<OpenCLDevice> gpus = listDevices(Device.TYPE.GPU);
        if (gpuAddress != null && !gpuAddress.isBlank()) {
            int index;
            try {
                index = Integer.parseInt(gpuAddress.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("GPU address '" + gpuAddress + "' is not a device index (0, 1, ...)"
                        + " into the OpenCL GPU list");
            }
            if (gpus.isEmpty()) {
                throw new IllegalStateException("GPU address " + gpuAddress + " was given, but OpenCL sees no GPU; "
                        + "install the GPU vendor's OpenCL driver (ICD, e.g. NVIDIA's libnvidia-compute), or set "
                        + "sparkseek.compute.backend=java");
            }
            if (index < 0 || index >= gpus.size()) {
                throw new IllegalArgumentException("GPU address " + gpuAddress + " is outside the " + gpus.size()
                        + " OpenCL GPU(s): " + describe(gpus));
            }
            return gpus.get(index);
        }
        if (!gpus.isEmpty()) {
            return gpus.get(0);
        }
        List<OpenCLDevice> cpus = listDevices(Device.TYPE.CPU);
        if (!cpus.isEmpty()) {
            return cpus.get(0);
        }
        throw new IllegalStateException("no OpenCL device: looked for OpenCL GPUs, then OpenCL CPU devices, and "
                + "found none (no ICD in /etc/OpenCL/vendors, or its driver does not load); " + FIX);
    }

    private static String describe(OpenCLDevice d) {
        return d.getName().trim() + " (" + d.getType() + ", " + d.getOpenCLPlatform().getName().trim() + ")";
    }

    private static String describe(List<OpenCLDevice> devices) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < devices.size(); i++) {
            names.add(i + ": " + describe(devices.get(i)));
        }
        return String.join("; ", names);
    }

    /** The OpenCL device the kernels run on. */
    public OpenCLDevice device() {
        return device;
    }

    @Override
    public String name() {
        return "opencl:" + device.getName().trim();
    }

    @Override
    public QuantizedMatrix quantize(ComputePool pool, float[] x, int rows, int cols, int tileRows, int tileCols,
                                    boolean powerOfTwoScales) {
        QuantizedMatrix.requireQuantizable(x, rows, cols, tileRows, tileCols);
        ensureOpen();
        int scaleRows = ceilDiv(rows, tileRows);
        int scaleCols = ceilDiv(cols, tileCols);
        byte[] codes = new byte[rows * cols];
        float[] scales = new float[scaleRows * scaleCols];
        if (codes.length == 0) {
            return new QuantizedMatrix(rows, cols, tileRows, tileCols, codes, scales);
        }
        float[] tileMax = new float[scales.length];
        Fp8QuantizeKernel k = quantizers.take();
        try {
            k.rows = rows;
            k.cols = cols;
            k.tileRows = tileRows;
            k.tileCols = tileCols;
            k.scaleCols = scaleCols;
            k.powerOfTwo = powerOfTwoScales ? 1 : 0;
            float[] rowMax = new float[rows * scaleCols];

            clearArrays(k);
            k.mode = Fp8QuantizeKernel.ROW_MAX;
            k.x = x;
            k.rowMax = rowMax;
            runQuantize(k, rowMax.length);

            clearArrays(k);
            k.mode = Fp8QuantizeKernel.TILE_SCALE;
            k.rowMax = rowMax;
            k.tileMax = tileMax;
            k.scales = scales;
            runQuantize(k, scales.length);
            requireFinite(tileMax, rows, cols, tileRows, tileCols, scaleRows, scaleCols);

            clearArrays(k);
            k.mode = Fp8QuantizeKernel.ENCODE;
            k.x = x;
            k.scales = scales;
            k.codes = codes;
            runQuantize(k, codes.length);
        } finally {
            clearArrays(k);
            quantizers.give(k);
        }
        return new QuantizedMatrix(rows, cols, tileRows, tileCols, codes, scales);
    }

    private void runQuantize(Fp8QuantizeKernel k, int count) {
        k.count = count;
        execute(k, Range.create(device, ceilDiv(count, QUANTIZE_GROUP) * QUANTIZE_GROUP, QUANTIZE_GROUP));
    }

    /** One-element placeholders, so a pass copies only its own arrays and an idle kernel pins none. */
    private static void clearArrays(Fp8QuantizeKernel k) {
        k.x = new float[1];
        k.rowMax = new float[1];
        k.tileMax = new float[1];
        k.scales = new float[1];
        k.codes = new byte[1];
    }

    /** The reference's NaN/Inf error, for the first bad tile in the same (row-major) order. */
    private static void requireFinite(float[] tileMax, int rows, int cols, int tileRows, int tileCols, int scaleRows,
                                      int scaleCols) {
        for (int tr = 0; tr < scaleRows; tr++) {
            for (int tc = 0; tc < scaleCols; tc++) {
                if (tileMax[tr * scaleCols + tc] < 0f) {
                    int r0 = tr * tileRows;
                    int c0 = tc * tileCols;
                    throw new IllegalArgumentException("cannot quantize to FP8: NaN or Inf in the tile at rows ["
                            + r0 + ", " + Math.min(rows, r0 + tileRows) + "), columns [" + c0 + ", "
                            + Math.min(cols, c0 + tileCols) + ") of a [" + rows + ", " + cols
                            + "] tensor; the step diverged (lower the learning rate, check the data)");
                }
            }
        }
    }

    @Override
    public void fprop(ComputePool pool, QuantizedMatrix x, QuantizedMatrix w, float[] y) {
        Fp8Gemm.requireTiles("fprop X", x, 1, Fp8GemmKernel.GROUP);
        Fp8Gemm.requireTiles("fprop W", w, Fp8GemmKernel.GROUP, Fp8GemmKernel.GROUP);
        Fp8Gemm.requireInner("fprop", "X cols", x.cols(), "W cols", w.cols());
        gemm(x, true, w, true, x.rows(), w.rows(), x.cols(), y);
    }

    @Override
    public void dgrad(ComputePool pool, QuantizedMatrix dy, QuantizedMatrix w, float[] dx) {
        Fp8Gemm.requireTiles("dgrad dY", dy, 1, Fp8GemmKernel.GROUP);
        Fp8Gemm.requireTiles("dgrad W", w, Fp8GemmKernel.GROUP, Fp8GemmKernel.GROUP);
        Fp8Gemm.requireInner("dgrad", "dY cols", dy.cols(), "W rows", w.rows());
        gemm(dy, true, w, false, dy.rows(), w.cols(), dy.cols(), dx);
    }

    @Override
    public void wgrad(ComputePool pool, QuantizedMatrix dy, QuantizedMatrix x, float[] dw) {
        Fp8Gemm.requireTiles("wgrad dY", dy, Fp8GemmKernel.GROUP, 1);
        Fp8Gemm.requireTiles("wgrad X", x, Fp8GemmKernel.GROUP, 1);
        Fp8Gemm.requireInner("wgrad", "dY rows", dy.rows(), "X rows", x.rows());
        gemm(dy, false, x, false, dy.cols(), x.cols(), dy.rows(), dw);
    }

    /**
     * C[m, n] = Σ_p A(i, p)·B(j, p) into {@code c[0, m·n)}; an operand is read along its columns
     * ({@code innerIsCols}: element (outer, p)) or along its rows (element (p, outer)), its scale group of 128 lying
     * along the inner index.
     */
    private void gemm(QuantizedMatrix a, boolean aInnerIsCols, QuantizedMatrix b, boolean bInnerIsCols, int m, int n,
                      int k, float[] c) {
        Objects.requireNonNull(c, "output");
        if (c.length < (long) m * n) {
            throw new IllegalArgumentException("output has " + c.length + " elements, needs at least " + m + "x" + n);
        }
        ensureOpen();
        if (m == 0 || n == 0) {
            return;
        }
        Fp8GemmKernel g = gemms.take();
        try {
            g.m = m;
            g.n = n;
            g.k = k;
            g.aOuterStride = aInnerIsCols ? a.cols() : 1;
            g.aInnerStride = aInnerIsCols ? 1 : a.cols();
            g.aScaleDiv = aInnerIsCols ? a.tileRows() : a.tileCols();
            g.aScaleOuterStride = aInnerIsCols ? a.scaleCols() : 1;
            g.aScaleInnerStride = aInnerIsCols ? 1 : a.scaleCols();
            g.bOuterStride = bInnerIsCols ? b.cols() : 1;
            g.bInnerStride = bInnerIsCols ? 1 : b.cols();
            g.bScaleDiv = bInnerIsCols ? b.tileRows() : b.tileCols();
            g.bScaleOuterStride = bInnerIsCols ? b.scaleCols() : 1;
            g.bScaleInnerStride = bInnerIsCols ? 1 : b.scaleCols();
            g.a = nonEmpty(a.codes());
            g.b = nonEmpty(b.codes());
            g.sa = nonEmpty(a.scales());
            g.sb = nonEmpty(b.scales());
            g.lut = lut;
            g.c = c;
            int t = Fp8GemmKernel.THREADS;
            int blk = Fp8GemmKernel.BLOCK;
            execute(g, Range.create2D(device, ceilDiv(n, blk) * t, ceilDiv(m, blk) * t, t, t));
        } finally {
            g.a = new byte[1];
            g.b = new byte[1];
            g.sa = new float[1];
            g.sb = new float[1];
            g.c = new float[1];
            gemms.give(g);
        }
    }

    /** K = 0 leaves the operands empty; OpenCL buffers cannot be. */
    private static byte[] nonEmpty(byte[] v) {
        return v.length == 0 ? new byte[1] : v;
    }

    private static float[] nonEmpty(float[] v) {
        return v.length == 0 ? new float[1] : v;
    }

    /**
     * Runs {@code kernel} on this backend's device and proves it ran there: Aparapi marks a device failed for the
     * kernel class when it falls back (to Java or another device), and that mark stays.
     */
    void execute(Kernel kernel, Range range) {
        requireNotFailed(kernel);
        try {
            kernel.execute(range);
        } catch (RuntimeException | AssertionError e) {
            throw new IllegalStateException("Aparapi could not run " + kernel.getClass().getSimpleName() + " on "
                    + describe(device) + ": " + e + "; " + FIX, e);
        }
        requireNotFailed(kernel);
    }

    private void requireNotFailed(Kernel kernel) {
        if (KernelManager.instance().getPreferences(kernel).getFailedDevices().contains(device)) {
            throw new IllegalStateException("Aparapi fell back from OpenCL to Java for "
                    + kernel.getClass().getSimpleName() + " on " + describe(device) + " (the 'Device failed' warning"
                    + " logged by com.aparapi above gives the cause; -Dcom.aparapi.enableShowGeneratedOpenCL=true"
                    + " prints the generated source); refusing to compute on the slow path: " + FIX);
        }
    }

    /**
     * Compiles both kernels and compares a small quantization and fprop with the references, so a device with
     * broken arithmetic (or a fallback) fails here rather than mid-training.
     */
    private void selfCheck() {
        int rows = 3;
        int cols = 130;
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.37) * (1 + i % 7) * 0.01f;
        }
        QuantizedMatrix qx = quantize(null, x, rows, cols, 1, Fp8GemmKernel.GROUP, false);
        QuantizedMatrix ref = QuantizedMatrix.quantize(x, rows, cols, 1, Fp8GemmKernel.GROUP, false);
        if (!Arrays.equals(qx.codes(), ref.codes()) || !Arrays.equals(qx.scales(), ref.scales())) {
            throw new IllegalStateException("FP8 quantization on OpenCL device " + describe(device) + " differs from "
                    + "the reference; set sparkseek.compute.backend=java");
        }
        QuantizedMatrix w = QuantizedMatrix.quantize(x, rows, cols, Fp8GemmKernel.GROUP, Fp8GemmKernel.GROUP, false);
        float[] y = new float[rows * rows];
        fprop(null, qx, w, y);
        float[] expected = Fp8Gemm.fprop(ref, w);
        for (int i = 0; i < y.length; i++) {
            if (Math.abs(y[i] - expected[i]) > 1e-6f * Math.abs(expected[i]) + 1e-30f) {
                throw new IllegalStateException("FP8 GEMM on OpenCL device " + describe(device) + " gives " + y[i]
                        + " where the reference gives " + expected[i] + "; set sparkseek.compute.backend=java");
            }
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the OpenCL backend on " + describe(device) + " is closed");
        }
    }

    /** Disposes the kernels' OpenCL resources; later calls fail. */
    @Override
    public void close() {
        closed = true;
        quantizers.dispose();
        gemms.dispose();
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Kernel instances, one per concurrent caller, created on demand and kept for reuse. */
    private static final class Pool<K extends Kernel> {
        private final Supplier<K> factory;
        private final ConcurrentLinkedDeque<K> idle = new ConcurrentLinkedDeque<>();
        private final ConcurrentLinkedDeque<K> all = new ConcurrentLinkedDeque<>();

        Pool(Supplier<K> factory) {
            this.factory = factory;
        }

        K take() {
            K k = idle.pollFirst();
            if (k == null) {
                k = factory.get();
                all.add(k);
            }
            return k;
        }

        void give(K k) {
            idle.addFirst(k);
        }

        void dispose() {
            idle.clear();
            for (K k = all.pollFirst(); k != null; k = all.pollFirst()) {
                k.dispose();
            }
        }
    }
}
