package io.sparkseek.model.config;

import io.sparkseek.model.kernel.ComputeBackend;
import io.sparkseek.model.kernel.JavaBackend;

import java.util.Locale;
import java.util.Objects;

/**
 * Which operations of a training step run in which precision (spec §8.1, §8.5), and on which backend the FP8 work
 * runs. {@link Precision#FP32}: everything FP32. {@link Precision#FP8}: the three GEMMs (fprop, dgrad, wgrad) of every
 * Linear in MLA ({@code q_a/q_b/q_proj, kv_a_proj_with_mqa, kv_b_proj, o_proj}), the dense MLP and the routed and
 * shared experts run as block-scaled E4M3 GEMMs on {@link #backend()}; their inputs are cached for backward in FP8
 * (E4M3 1×128 tiles; the {@code o_proj} input in E5M6 with power-of-two scales). The embedding, {@code lm_head}, the
 * router gate, the norms and the attention core stay FP32, as do master weights and gradients; AdamW keeps its
 * moments in BF16 ({@link #bf16Moments()}).
 */
public record PrecisionPolicy(Precision precision, ComputeBackend backend) {

    /** The {@code --precision} values. */
    public enum Precision {
        FP32, FP8;

        /** Parses {@code fp32} or {@code fp8} (any case); the error names the value and the choices. */
        public static Precision parse(String value) {
            if (value != null) {
                for (Precision p : values()) {
                    if (p.name().equalsIgnoreCase(value.trim())) {
                        return p;
                    }
                }
            }
            throw new IllegalArgumentException("precision '" + value + "' is not supported; use fp32 or fp8");
        }

        /** The lower-case name used on the command line and in metrics. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** All FP32 (the FP32 path never calls the backend). */
    public static final PrecisionPolicy FP32 = new PrecisionPolicy(Precision.FP32, JavaBackend.INSTANCE);

    public PrecisionPolicy {
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(backend, "backend");
    }

    /** FP8 Linears on this backend. */
    public static PrecisionPolicy fp8(ComputeBackend backend) {
        return new PrecisionPolicy(Precision.FP8, backend);
    }

    /** Whether the Linears of attention, MLP and experts run their GEMMs in FP8. */
    public boolean fp8Linears() {
        return precision == Precision.FP8;
    }

    /** Whether AdamW keeps its moments in BF16 (spec §8.1: with FP8 training). */
    public boolean bf16Moments() {
        return precision == Precision.FP8;
    }

    /** e.g. {@code fp32} or {@code fp8 on java}. */
    public String describe() {
        return fp8Linears() ? precision.label() + " on " + backend.name() : precision.label();
    }
}
