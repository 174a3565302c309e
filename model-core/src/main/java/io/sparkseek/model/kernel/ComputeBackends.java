package io.sparkseek.model.kernel;

import java.util.Locale;

/**
 * Chooses the {@link ComputeBackend} from {@code sparkseek.compute.backend} ({@code auto|opencl|java}).
 * {@code java} is the Vector-API CPU path; {@code opencl} the Aparapi kernels on an OpenCL device; {@code auto} an
 * OpenCL GPU when one is there, else {@code java}.
 */
public final class ComputeBackends {

    /** The values {@code sparkseek.compute.backend} takes. */
    public enum Kind {
        AUTO, OPENCL, JAVA;

        /** Parses a config value; the error names the value and the choices. */
        public static Kind parse(String value) {
            if (value == null || value.isBlank()) {
                return AUTO;
            }
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("sparkseek.compute.backend = '" + value
                        + "' is not a backend; use auto, opencl or java");
            }
        }
    }

    private ComputeBackends() {
    }

    /**
     * A backend of this kind; {@code gpuAddress} (may be null) picks the OpenCL GPU a Spark task was given.
     * {@code opencl}: {@link AparapiBackend#open} (a GPU, else the OpenCL CPU device; fails without one). {@code auto}:
     * {@link AparapiBackend} when an OpenCL GPU is visible, else {@link JavaBackend} (POCL's CPU device is much
     * slower than the Vector-API kernels, docs/fp8.md). Prints the choice to stderr, one line.
     */
    public static ComputeBackend create(Kind kind, String gpuAddress) {
        ComputeBackend backend;
        String why;
        switch (kind) {
            case JAVA -> {
                backend = JavaBackend.INSTANCE;
                why = "sparkseek.compute.backend=java";
            }
            case OPENCL -> {
                backend = AparapiBackend.open(gpuAddress);
                why = "sparkseek.compute.backend=opencl" + (gpuAddress == null ? "" : ", GPU address " + gpuAddress);
            }
            case AUTO -> {
                if (AparapiBackend.gpuAvailable()) {
                    backend = AparapiBackend.open(gpuAddress);
                    why = "auto: an OpenCL GPU is visible" + (gpuAddress == null ? "" : ", GPU address " + gpuAddress);
                } else {
                    backend = JavaBackend.INSTANCE;
                    why = "auto: no OpenCL GPU";
                }
            }
            default -> throw new IllegalArgumentException("unknown backend kind " + kind);
        }
        System.err.println("sparkseek: compute backend " + backend.name() + " (" + why + ")");
        return backend;
    }
}
