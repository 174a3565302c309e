package io.sparkseek.jobs.cli;

import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.io.HfModelDir;
import io.sparkseek.model.layer.DeepSeekModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code init --model X.json --out DIR [--seed S]}: a randomly initialised model in the HF layout. */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Write a randomly initialised model (config.json + FP32 model.safetensors).")
public final class InitCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "HF DeepseekV3 config.json, e.g. conf/models/tiny.json")
    Path model;

    @Option(names = "--out", required = true, description = "output directory (must not hold a model already)")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "initialisation seed (default ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        ModelConfig cfg = ModelConfig.read(model);
        if (Files.exists(out.resolve(HfModelDir.CONFIG)) || Files.exists(out.resolve(HfModelDir.SINGLE))) {
            throw new IllegalArgumentException("--out " + out + " already holds a model; choose another directory"
                    + " or delete it");
        }
        DeepSeekModel m = new DeepSeekModel(cfg, 0f);
        m.initialize(seed);
        HfModelDir.save(m, out);
        long n = m.params().stream().mapToLong(p -> p.size()).sum();
        System.out.printf("initialised %s: %,d parameters, seed %d -> %s%n", model, n, seed, out);
        return 0;
    }
}
