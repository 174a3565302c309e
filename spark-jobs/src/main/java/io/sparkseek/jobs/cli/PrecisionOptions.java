package io.sparkseek.jobs.cli;

import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.kernel.ComputeBackends;
import picocli.CommandLine.Option;

/** {@code --precision fp32|fp8} and {@code --backend auto|opencl|java}, shared by eval, grad, bench-model, train. */
final class PrecisionOptions {
    @Option(names = "--precision", defaultValue = "fp32",
            description = "fp32, or fp8: the Linears of attention, MLP and experts as E4M3 block-scaled GEMMs "
                    + "(spec §8; default ${DEFAULT-VALUE})")
    String precision;

    @Option(names = "--backend", defaultValue = "${sys:sparkseek.compute.backend:-auto}",
            description = "where the FP8 kernels run: auto (an OpenCL GPU if present, else java), opencl or java "
                    + "(default ${DEFAULT-VALUE}; system property sparkseek.compute.backend)")
    String backend;

    /** The same backend choice with another precision. */
    PrecisionOptions withPrecision(String otherPrecision) {
        PrecisionOptions o = new PrecisionOptions();
        o.precision = otherPrecision;
        o.backend = backend;
        return o;
    }

    /** The policy these options describe; the FP32 policy opens no backend. */
    PrecisionPolicy policy() {
        PrecisionPolicy.Precision p = PrecisionPolicy.Precision.parse(precision);
        ComputeBackends.Kind kind = ComputeBackends.Kind.parse(backend);
        if (p == PrecisionPolicy.Precision.FP32) {
            return PrecisionPolicy.FP32;
        }
        return PrecisionPolicy.fp8(ComputeBackends.create(kind, null));
    }
}
