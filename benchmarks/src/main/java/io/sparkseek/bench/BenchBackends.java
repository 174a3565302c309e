package io.sparkseek.bench;

import io.sparkseek.model.kernel.ComputeBackend;
import io.sparkseek.model.kernel.ComputeBackends;
import java.util.Locale;

/**
 * The {@code backend} parameter of the benchmarks: {@code fp32} (plain {@link io.sparkseek.model.kernel.CpuGemm}, no
 * FP8 backend), {@code java} and {@code opencl} (the FP8 backends of {@link ComputeBackends#create}).
 *
 * <p>{@code main} prints, one per line, {@code <name> ok} or {@code <name> unavailable: <reason>} for each backend
 * named in its arguments, so that {@code scripts/bench-fp8-gemm} can leave out a backend that cannot be created here
 * (the OpenCL one without its implementation or without a device) instead of failing its benchmarks one by one.
 */
public final class BenchBackends {

    private BenchBackends() {
    }

    /** The FP8 backend named {@code java} or {@code opencl}; throws what {@link ComputeBackends#create} throws. */
    public static ComputeBackend fp8(String name) {
        ComputeBackends.Kind kind = switch (name) {
            case "java" -> ComputeBackends.Kind.JAVA;
            case "opencl" -> ComputeBackends.Kind.OPENCL;
            default -> throw new IllegalArgumentException("backend '" + name + "' has no FP8 path; use java or opencl");
        };
        return ComputeBackends.create(kind, null);
    }

    public static void main(String[] args) {
        for (String name : args) {
            if (name.equals("fp32")) {
                System.out.println("fp32 ok");
                continue;
            }
            try (ComputeBackend b = fp8(name)) {
                System.out.println(name + " ok " + b.name());
            } catch (RuntimeException | LinkageError e) {
                String why = String.valueOf(e.getMessage()).replace('\n', ' ');
                System.out.println(String.format(Locale.ROOT, "%s unavailable: %s: %s", name,
                        e.getClass().getSimpleName(), why));
            }
        }
    }
}
