package io.sparkseek.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code bench-model --step-gate stdin}: lets a driver ({@code bench/lockstep.py}) run this trainer one step at a
 * time, in turn with other trainers, so that all of them see the same machine speed. The protocol, line-based:
 * <ul>
 *   <li>after loading, before the first step: {@value #READY} on stdout;</li>
 *   <li>before each step (warm-up and timed): one line read from stdin (its content is ignored; end of input
 *   before the last step is an error);</li>
 *   <li>after each step: {@value #PREFIX} + a JSON object {@code {"step", "seconds", "loss", "rows_sum"}} on
 *   stdout ({@code seconds}: the trainer's own time of the step; {@code rows_sum}: the sum of the batch's token
 *   ids, so the driver can check that every side trained on the same rows).</li>
 *   <li>after the last step: wait for the end of stdin before going on (final JSON, exit), so that this process's
 *   shutdown does not run while another side's step is timed.</li>
 * </ul>
 * Other stdout lines (e.g. the final {@code --json} object) carry neither prefix.
 */
final class StepGate {
    static final String READY = "READY";
    static final String PREFIX = "STEP ";

    private final BufferedReader in;
    private final PrintStream out;
    private final ObjectMapper mapper = new ObjectMapper();

    StepGate(BufferedReader in, PrintStream out) {
        this.in = in;
        this.out = out;
    }

    /** Parses the {@code --step-gate} value: {@code none} (no gate, null) or {@code stdin}. */
    static boolean enabled(String value) {
        if (value == null || value.equals("none")) {
            return false;
        }
        if (value.equals("stdin")) {
            return true;
        }
        throw new IllegalArgumentException("--step-gate " + value + ": expected stdin or none");
    }

    /** Tells the driver that loading is done and the first step may be asked for. */
    void ready() {
        out.println(READY);
        out.flush();
    }

    /** Blocks until the driver asks for step {@code step} (0-based, warm-up steps included). */
    void await(int step) throws IOException {
        if (in.readLine() == null) {
            throw new IllegalStateException("--step-gate stdin: input closed before step " + step
                    + "; the driver must send one line per step");
        }
    }

    /** After the last step: blocks until the driver closes stdin (lines before that are ignored). */
    void awaitEnd() throws IOException {
        while (in.readLine() != null) {
            // the driver sends nothing more; whatever comes is not a step
        }
    }

    /** Reports one finished step. */
    void done(int step, double seconds, double loss, int[] rows) throws IOException {
        long sum = 0;
        for (int t : rows) {
            sum += t;
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", step);
        line.put("seconds", seconds);
        line.put("loss", loss);
        line.put("rows_sum", sum);
        out.println(PREFIX + mapper.writeValueAsString(line));
        out.flush();
    }
}
