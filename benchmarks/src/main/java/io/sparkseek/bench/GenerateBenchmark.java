package io.sparkseek.bench;

import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.infer.CachedDecoder;
import io.sparkseek.model.infer.Generator;
import io.sparkseek.model.infer.RecomputeDecoder;
import io.sparkseek.model.infer.Sampler;
import io.sparkseek.model.infer.SamplingParams;
import io.sparkseek.model.infer.TokenDecoder;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Greedy generation on a randomly initialised model (seed 1), steady state: one operation = prefill a fixed
 * pseudo-random prompt of {@code promptTokens} ids, then {@code newTokens} tokens, with the MLA latent cache
 * ({@code cache}) or a full forward of the whole prefix per token ({@code no-cache}). Secondary metrics (EVENTS,
 * summed over the iteration): {@code decodeSteps} tokens fed back and {@code decodeMs} / {@code prefillMs} spent;
 * decode tokens/s = decodeSteps / decodeMs · 1000. Run: {@code scripts/bench-generate}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class GenerateBenchmark {
    @Param({"cache", "no-cache"})
    public String mode;

    @Param("conf/models/small.json")
    public String model;

    @Param("32")
    public int promptTokens;

    @Param("128")
    public int newTokens;

    @Param("2")
    public int threads;

    private ComputePool pool;
    private TokenDecoder decoder;
    private int[] prompt;

    /** Time and tokens of the iteration's generations. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Decode {
        public long decodeSteps;
        public double decodeMs;
        public double prefillMs;

        @Setup(Level.Iteration)
        public void reset() {
            decodeSteps = 0;
            decodeMs = 0;
            prefillMs = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        ModelConfig cfg;
        try {
            cfg = ModelConfig.read(Path.of(model));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read -p model=" + model + " (run from the repository root)", e);
        }
        DeepSeekModel m = new DeepSeekModel(cfg, 0f);
        m.initialize(1);
        decoder = mode.equals("cache") ? new CachedDecoder(m) : new RecomputeDecoder(m);
        SplittableRandom rnd = new SplittableRandom(1);
        prompt = new int[promptTokens];
        for (int i = 0; i < promptTokens; i++) {
            prompt[i] = 3 + rnd.nextInt(cfg.vocabSize() - 3);   // 0-2: BOS/EOS/PAD in the DeepSeek-V3 layout
        }
        pool = new ComputePool(threads);
        JitWarmup.run("generate " + mode, () -> generate(4));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    private Generator.Result generate(int n) {
        return new Generator(decoder, -1).generate(pool, prompt, n, new Sampler(SamplingParams.GREEDY), id -> { });
    }

    @Benchmark
    public int generate(Decode d) {
        Generator.Result r = generate(newTokens);
        d.decodeSteps += r.decodeSteps();
        d.decodeMs += r.decodeNanos() / 1e6;
        d.prefillMs += r.prefillNanos() / 1e6;
        return r.tokens()[r.tokens().length - 1];
    }
}
