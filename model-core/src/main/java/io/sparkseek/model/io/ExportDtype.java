package io.sparkseek.model.io;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Weight precision of an HF export (spec §9): {@code fp32} and {@code bf16} write every weight in that type;
 * {@code fp8} writes the tensors the official release quantizes as F8_E4M3 with an F32 {@code weight_scale_inv}
 * per 128×128 block, everything else as BF16. The routing bias is always F32.
 */
public enum ExportDtype {
    FP32("float32"),
    BF16("bfloat16"),
    FP8("bfloat16");

    private final String torchDtype;

    ExportDtype(String torchDtype) {
        this.torchDtype = torchDtype;
    }

    /** config.json's {@code torch_dtype}: the type of the unquantized tensors. */
    public String torchDtype() {
        return torchDtype;
    }

    /** The CLI spelling ({@code fp32}, {@code bf16}, {@code fp8}). */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses the CLI spelling, case-insensitively; the error lists the choices. */
    public static ExportDtype parse(String s) {
        for (ExportDtype d : values()) {
            if (d.cliName().equalsIgnoreCase(s.trim())) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown export dtype '" + s + "': choose one of "
                + Arrays.stream(values()).map(ExportDtype::cliName).collect(Collectors.joining(", ")));
    }
}
