package io.sparkseek.jobs.cli;

import io.sparkseek.model.io.Safetensors;
import io.sparkseek.model.io.TensorData;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code grad --checkpoint DIR --tokens FILE --seq-len T --out FILE.safetensors}: the gradient of the mean
 * next-token cross-entropy over all rows (one batch) w.r.t. every parameter, one F32 tensor per HF name.
 */
@Command(name = "grad", mixinStandardHelpOptions = true,
        description = "Write d(mean next-token loss)/d(weight) for every parameter as F32 safetensors.")
public final class GradCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "trainer checkpoint, run dir or HF-layout directory")
    Path checkpoint;

    @Option(names = "--tokens", required = true, description = "raw little-endian int32 rows of seq-len + 1 tokens")
    Path tokens;

    @Option(names = "--seq-len", required = true, description = "tokens per row minus one")
    int seqLen;

    @Option(names = "--out", required = true, description = "output .safetensors file")
    Path out;

    @Option(names = "--balance-alpha", defaultValue = "0",
            description = "add the sequence-wise balance loss with this alpha (default ${DEFAULT-VALUE}: plain CE)")
    float alpha;

    @Option(names = "--threads", description = "compute threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        DeepSeekModel model = ModelLoader.load(checkpoint, alpha);
        int[] all = TokenFile.read(tokens, seqLen);
        TokenFile.checkVocab(tokens, all, seqLen, model.config().vocabSize());
        int rows = all.length / (seqLen + 1);
        double loss;
        try (ComputePool pool = new ComputePool(threads != null ? threads : Runtime.getRuntime().availableProcessors())) {
            model.zeroGrad();
            loss = model.forward(pool, all, rows, seqLen);
            model.backward(pool);
        }
        List<TensorData> grads = new ArrayList<>();
        for (Param p : model.params()) {
            grads.add(TensorData.f32(p.name(), Arrays.stream(p.shape()).asLongStream().toArray(), p.g()));
        }
        Safetensors.write(out, grads, Map.of("loss", Double.toString(loss)));
        System.out.printf("loss %.6f over %d tokens; %d gradient tensors -> %s%n", loss, model.lastTokens(),
                grads.size(), out);
        return 0;
    }
}
