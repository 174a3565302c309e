package io.sparkseek.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.kernel.JavaBackend;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code bench-model}: the moments options, and {@code --step-gate}'s option parsing and the line protocol
 * bench/lockstep.py drives.
 */
class BenchModelCommandTest {

    private static BenchModelCommand parse(String... args) {
        BenchModelCommand cmd = new BenchModelCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd;
    }

    @Test
    void momentsFollowThePrecisionUnlessOverridden() {
        PrecisionPolicy fp8 = PrecisionPolicy.fp8(JavaBackend.INSTANCE);
        assertThat(parse("--model", "m.json").bf16Moments(PrecisionPolicy.FP32)).isFalse();
        assertThat(parse("--model", "m.json").bf16Moments(fp8)).isTrue();
        assertThat(parse("--model", "m.json", "--bf16-moments").bf16Moments(PrecisionPolicy.FP32)).isTrue();
        assertThat(parse("--model", "m.json", "--fp32-moments").bf16Moments(fp8)).isFalse();
        assertThat(parse("--model", "m.json", "--fp32-moments").bf16Moments(PrecisionPolicy.FP32)).isFalse();
        BenchModelCommand both = parse("--model", "m.json", "--fp32-moments", "--bf16-moments");
        assertThatThrownBy(() -> both.bf16Moments(fp8)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--bf16-moments and --fp32-moments");
    }

    @Test
    void noGateByDefault() {
        BenchModelCommand cmd = parse("--model", "m.json");
        assertThat(cmd.stepGate).isEqualTo("none");
        assertThat(cmd.gate()).isNull();
    }

    @Test
    void stdinGateIsParsed() {
        BenchModelCommand cmd = parse("--model", "m.json", "--step-gate", "stdin", "--threads", "2");
        assertThat(cmd.stepGate).isEqualTo("stdin");
        assertThat(cmd.gate()).isNotNull();
    }

    @Test
    void unknownGateIsNamed() {
        BenchModelCommand cmd = parse("--model", "m.json", "--step-gate", "fifo");
        assertThatThrownBy(cmd::gate).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--step-gate fifo").hasMessageContaining("stdin");
    }

    @Test
    void gateRefusesVersus() {
        BenchModelCommand cmd = parse("--model", "m.json", "--step-gate", "stdin", "--versus", "fp32");
        assertThatThrownBy(cmd::gate).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--versus fp32");
    }

    @Test
    void gateWaitsForOneLinePerStepAndReportsEachStep() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        StepGate gate = new StepGate(new BufferedReader(new StringReader("step 0\nstep 1\n")), out);
        StepGate ending = new StepGate(new BufferedReader(new StringReader("stray\n")), out);
        ending.awaitEnd();   // returns at the end of input
        gate.ready();
        gate.await(0);
        gate.done(0, 1.25, 9.5, new int[]{1, 2, 3});
        gate.await(1);
        gate.done(1, 0.75, 8.0, new int[]{4, 5});
        assertThatThrownBy(() -> gate.await(2)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("before step 2");

        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).isEqualTo(StepGate.READY);
        assertThat(lines[1]).startsWith(StepGate.PREFIX);
        JsonNode first = new ObjectMapper().readTree(lines[1].substring(StepGate.PREFIX.length()));
        assertThat(first.get("step").asInt()).isEqualTo(0);
        assertThat(first.get("seconds").asDouble()).isEqualTo(1.25);
        assertThat(first.get("loss").asDouble()).isEqualTo(9.5);
        assertThat(first.get("rows_sum").asLong()).isEqualTo(6);
        JsonNode second = new ObjectMapper().readTree(lines[2].substring(StepGate.PREFIX.length()));
        assertThat(second.get("step").asInt()).isEqualTo(1);
        assertThat(second.get("rows_sum").asLong()).isEqualTo(9);
    }
}
