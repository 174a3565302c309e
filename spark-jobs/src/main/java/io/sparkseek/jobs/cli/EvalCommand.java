package io.sparkseek.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code eval --checkpoint DIR --tokens FILE --seq-len T [--json]}: mean next-token cross-entropy (no auxiliary
 * terms), perplexity and per-MoE-layer expert loads over every row of the token file.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Mean next-token loss, perplexity and expert loads of a model on a token file.")
public final class EvalCommand implements Callable<Integer> {
    @Mixin
    ModelOnTokens input;

    @Option(names = "--batch", defaultValue = "8", description = "rows per forward pass (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--json", description = "print one JSON object on stdout and nothing else")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        }
        DeepSeekModel model = input.loadModel(0f);
        int[] all = input.readRows(model);
        int seqLen = input.seqLen;
        int rowLen = seqLen + 1;
        int rows = all.length / rowLen;
        double ceSum = 0;
        long tokenCount = 0;
        Map<String, long[]> loads = new LinkedHashMap<>();
        try (ComputePool pool = input.pool()) {
            for (int r0 = 0; r0 < rows; r0 += batch) {
                int b = Math.min(batch, rows - r0);
                int[] chunk = Arrays.copyOfRange(all, r0 * rowLen, (r0 + b) * rowLen);
                model.forward(pool, chunk, b, seqLen);
                int n = model.lastTokens();
                ceSum += model.lastCrossEntropy() * n;
                tokenCount += n;
                model.expertLoads().forEach((layer, counts) -> {
                    long[] acc = loads.computeIfAbsent(layer, k -> new long[counts.length]);
                    for (int i = 0; i < counts.length; i++) {
                        acc[i] += counts[i];
                    }
                });
            }
        }
        double loss = ceSum / tokenCount;
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("loss", loss);
            out.put("tokens", tokenCount);
            out.put("perplexity", Math.exp(loss));
            out.put("expert_load", loads);
            System.out.println(new ObjectMapper().writeValueAsString(out));
        } else {
            System.out.printf("loss %.6f  perplexity %.3f  tokens %d%n", loss, Math.exp(loss), tokenCount);
            loads.forEach((layer, counts) -> System.out.println(layer + " expert load " + Arrays.toString(counts)));
        }
        return 0;
    }
}
