package io.sparkseek.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.data.tokenizer.BpeTokenizer;
import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.infer.CachedDecoder;
import io.sparkseek.model.infer.Generator;
import io.sparkseek.model.infer.RecomputeDecoder;
import io.sparkseek.model.infer.Sampler;
import io.sparkseek.model.infer.SamplingParams;
import io.sparkseek.model.infer.TokenDecoder;
import io.sparkseek.jobs.HadoopConfs;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;

/**
 * {@code generate --checkpoint DIR (--prompt TEXT | --prompt-ids 1,2,3) [--max-new-tokens N] [--temperature T]
 * [--top-p P] [--seed S] [--no-cache] [--json]}: sampling from a model (ARCHITECTURE §4), FP32, with MLA's compressed
 * KV cache ({@link CachedDecoder}) or, with {@code --no-cache}, a full forward of the whole prefix per token.
 *
 * <p>The prompt is encoded as data prep encodes documents ({@code encodeOrdinary}: no BOS, no special-token matching;
 * prep appends EOS after each document and never prepends BOS). Generation stops at the tokenizer's EOS (else
 * config.json's {@code eos_token_id}), after {@code --max-new-tokens}, or when prompt + output reach
 * max_position_embeddings. Text streams to stdout as tokens come (whole UTF-8 characters only); a summary line goes
 * to stderr. {@code --json}: one JSON object on stdout and nothing else there.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Sample a continuation of a prompt (FP32, KV-cached MLA decoding).")
public final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true,
            description = "trainer checkpoint, run dir or HF-layout directory; local, hdfs:// or s3a://")
    String checkpoint;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    /** Exactly one of the prompt forms. */
    static final class Prompt {
        @Option(names = "--prompt", description = "prompt text, encoded with the model's tokenizer.json")
        String text;

        @Option(names = "--prompt-ids", split = ",", description = "prompt token ids, e.g. 1,2,3 (no tokenizer needed)")
        int[] ids;
    }

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "most tokens to generate "
            + "(default ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0.8", description = "softmax temperature; 0 = greedy "
            + "(default ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-p", defaultValue = "0.95", description = "nucleus mass in (0, 1]; 1 = no cut "
            + "(default ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--seed", defaultValue = "0", description = "sampling seed: same seed, same tokens "
            + "(default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--no-cache", description = "recompute the full forward of the whole prefix for every token "
            + "(slow; for comparison)")
    boolean noCache;

    @Option(names = "--threads", description = "compute threads (default: all cores)")
    Integer threads;

    @Option(names = "--json", description = "print one JSON object on stdout and nothing else")
    boolean json;

    @Override
    public Integer call() throws Exception {
        SamplingParams sampling = new SamplingParams(temperature, topP, seed);
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("--max-new-tokens must be >= 0, got " + maxNewTokens);
        }
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        }
        ModelLoader.Loaded loaded = ModelLoader.load(checkpoint, HadoopConfs.fromSparkConf(), 0f,
                PrecisionPolicy.FP32);
        DeepSeekModel model = loaded.model();
        BpeTokenizer tokenizer = loaded.tokenizerJson() == null ? null : BpeTokenizer.fromJson(loaded.tokenizerJson());
        if (tokenizer == null && prompt.text != null) {
            throw new IllegalArgumentException("--prompt needs a tokenizer, but " + loaded.tokenizerLocation()
                    + " does not exist: copy the tokenizer.json the training data was prepared with there, or pass"
                    + " --prompt-ids");
        }
        int[] promptIds = prompt.text != null ? tokenizer.encodeOrdinary(prompt.text) : prompt.ids;
        int eos = eosId(tokenizer, model);

        TokenDecoder decoder = noCache ? new RecomputeDecoder(model) : new CachedDecoder(model);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Utf8Stream text = new Utf8Stream();
        BpeTokenizer tok = tokenizer;
        IntConsumer stream = id -> {
            if (!json) {   // print(String) flushes only at a newline: flush each token so text appears as it comes
                out.print(tok != null ? text.feed(tok.decodeBytes(new int[] {id})) : id + " ");
                out.flush();
            }
        };
        Generator.Result r;
        int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        try (ComputePool pool = new ComputePool(nThreads)) {
            r = new Generator(decoder, eos).generate(pool, promptIds, maxNewTokens, new Sampler(sampling), stream);
        }
        double prefillMs = r.prefillNanos() / 1e6;
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("prompt_tokens", r.promptTokens());
            o.put("new_tokens", r.tokens().length);
            o.put("ids", r.tokens());
            if (tok != null) {
                o.put("text", tok.decode(r.tokens()));
            }
            o.put("stop", r.stop().label());
            o.put("eos_token_id", eos);
            o.put("cache", noCache ? "none" : "mla-latent");
            o.put("temperature", temperature);
            o.put("top_p", topP);
            o.put("seed", seed);
            o.put("prefill_ms", prefillMs);
            o.put("decode_ms", r.decodeNanos() / 1e6);
            o.put("decode_steps", r.decodeSteps());
            o.put("decode_tokens_per_s", r.decodeTokensPerSecond());
            out.println(new ObjectMapper().writeValueAsString(o));
        } else {
            out.println(tok != null ? text.finish() : "");
            System.err.printf("generate: %d prompt tokens, %d new tokens (stop: %s), prefill %.1f ms,"
                            + " decode %.1f tokens/s (%s)%n", r.promptTokens(), r.tokens().length, r.stop().label(),
                    prefillMs, r.decodeTokensPerSecond(), noCache ? "no cache: full forward per token" : "KV cache");
        }
        out.flush();
        return 0;
    }

    /** The tokenizer's EOS (what data prep appends to every document), else config.json's eos_token_id, else −1. */
    static int eosId(BpeTokenizer tokenizer, DeepSeekModel model) {
        if (tokenizer != null) {
            OptionalInt id = tokenizer.tokenToId(BpeTokenizer.EOS_TOKEN);
            if (id.isPresent()) {
                return id.getAsInt();
            }
        }
        Integer fromConfig = model.config().eosTokenId();
        return fromConfig != null ? fromConfig : -1;
    }
}
