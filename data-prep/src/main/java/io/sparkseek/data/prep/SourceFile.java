package io.sparkseek.data.prep;

import java.io.Serializable;

/**
 * An input file as listed at the start of a run: its index among all sources of the data dir (the high bits of
 * every {@link Doc#key()} read from it), its fully qualified URI, size and modification time.
 */
public record SourceFile(int index, String uri, long size, long modified) implements Serializable {
}
