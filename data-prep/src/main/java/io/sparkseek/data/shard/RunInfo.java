package io.sparkseek.data.shard;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One prep run that added to the data dir: its index (0, 1, ...), how many sources it added, and its
 * counters (documents read, dropped per reason, deduplicated, tokens, ...) in the order the prep job put
 * them.
 */
public record RunInfo(int index, int sources, Map<String, Long> stats) {
    public RunInfo {
        Checks.nonNegative(index, "run index");
        Checks.nonNegative(sources, "sources of run " + index);
        if (stats == null) {
            throw new IllegalArgumentException("stats of run " + index + " is missing");
        }
        LinkedHashMap<String, Long> copy = new LinkedHashMap<>();
        stats.forEach((k, v) -> {
            Checks.nonEmpty(k, "stats key of run " + index);
            if (v == null) {
                throw new IllegalArgumentException("stats." + k + " of run " + index + " is null");
            }
            copy.put(k, v);
        });
        stats = Collections.unmodifiableMap(copy);
    }
}
