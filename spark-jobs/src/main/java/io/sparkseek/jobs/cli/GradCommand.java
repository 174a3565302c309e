package io.sparkseek.jobs.cli;

import io.sparkseek.model.io.Safetensors;
import io.sparkseek.model.io.TensorData;
import io.sparkseek.model.kernel.ComputePool;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
    @Mixin
    ModelOnTokens input;

    @Option(names = "--out", required = true, description = "output .safetensors file")
    Path out;

    @Option(names = "--balance-alpha", defaultValue = "0",
            description = "add the sequence-wise balance loss with this alpha (default ${DEFAULT-VALUE}: plain CE)")
    float alpha;

    @Override
    public Integer call() throws Exception {
        DeepSeekModel model = input.loadModel(alpha);
        int[] all = input.readRows(model);
        int seqLen = input.seqLen;
        int rows = all.length / (seqLen + 1);
        double loss;
        try (ComputePool pool = input.pool()) {
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
