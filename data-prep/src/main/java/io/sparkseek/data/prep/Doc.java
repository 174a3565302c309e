package io.sparkseek.data.prep;

import java.io.Serializable;

/**
 * One cleaned document. {@code key} orders documents globally and deterministically: the source's index in the
 * manifest in the high 32 bits, the record's ordinal inside its file (line, paragraph or row number, counting
 * dropped records too) in the low 32. A smaller key is an earlier document; dedup keeps the smallest.
 */
public record Doc(long key, String text) implements Serializable {
    /** Bits of the key that hold the record ordinal. */
    public static final int ORDINAL_BITS = 32;

    public static long key(int sourceIndex, long ordinal) {
        if (ordinal < 0 || ordinal >= (1L << ORDINAL_BITS)) {
            throw new IllegalArgumentException("a source file holds more than 2^32 records: " + ordinal);
        }
        return ((long) sourceIndex << ORDINAL_BITS) | ordinal;
    }

    public int sourceIndex() {
        return (int) (key >>> ORDINAL_BITS);
    }

    public long ordinal() {
        return key & ((1L << ORDINAL_BITS) - 1);
    }
}
