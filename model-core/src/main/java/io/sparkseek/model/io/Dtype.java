package io.sparkseek.model.io;

/**
 * Element types of the safetensors format, by their header string and byte size (spec §9.1, [ST]).
 *
 * <p>The set is the one listed in spec §9.1; a header naming any other dtype is rejected by the reader.
 * All multi-byte types are little-endian on disk.
 */
public enum Dtype {
    BOOL(1),
    U8(1),
    I8(1),
    F8_E5M2(1),
    F8_E4M3(1),
    F8_E8M0(1),
    I16(2),
    U16(2),
    F16(2),
    BF16(2),
    I32(4),
    U32(4),
    F32(4),
    F64(8),
    I64(8),
    U64(8);

    private final int size;

    Dtype(int size) {
        this.size = size;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** The dtype whose header string is exactly {@code name} (case-sensitive), or {@code null} if none. */
    public static Dtype fromHeader(String name) {
        for (Dtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }
}
