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

    /** A backend of this kind; {@code gpuAddress} (may be null) picks the OpenCL device a Spark task was given. */
    public static ComputeBackend create(Kind kind, String gpuAddress) {
        return switch (kind) {
            case JAVA -> JavaBackend.INSTANCE;
            case OPENCL, AUTO -> {
                if (kind == Kind.AUTO) {
                    yield JavaBackend.INSTANCE;
                }
                throw new UnsupportedOperationException("the OpenCL backend is not built yet");
            }
        };
    }
}
