package io.sparkseek.jobs.cli;

import io.sparkseek.data.tokenizer.BpeTokenizer;
import io.sparkseek.jobs.HadoopConfs;
import io.sparkseek.jobs.export.ExportPublisher;
import io.sparkseek.jobs.export.Retry;
import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.io.ExportDtype;
import io.sparkseek.model.io.HfExport;
import io.sparkseek.model.layer.DeepSeekModel;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code export --checkpoint DIR --to URI [--dtype bf16|fp32|fp8]}: the HuggingFace DeepSeek-V3 layout (spec §9)
 * written locally by {@link HfExport} with the tokenizer files, then uploaded, verified and committed with
 * {@code _SUCCESS} by {@link ExportPublisher} to a local path, {@code hdfs://} or {@code s3a://}.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Export a checkpoint in the HuggingFace DeepSeek-V3 layout to a local path, hdfs:// or s3a://.")
public final class ExportCommand implements Callable<Integer> {
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KB|MB|GB|KIB|MIB|GIB)?");

    @Option(names = "--checkpoint", required = true,
            description = "run dir (its latest checkpoint), trainer checkpoint or HF-layout directory; local,"
                    + " hdfs:// or s3a://")
    String checkpoint;

    @Option(names = "--to", required = true, description = "destination directory: a path, hdfs://... or s3a://bucket/prefix")
    String to;

    @Option(names = "--dtype", defaultValue = "bf16",
            description = "bf16, fp32, or fp8 (E4M3 + 128x128 weight_scale_inv, as the official release); default ${DEFAULT-VALUE}")
    String dtype;

    @Option(names = "--max-shard-size", defaultValue = "5GB",
            description = "split the weights into model-0000i-of-0000K.safetensors above this size (B, KB, MB, GB"
                    + " = powers of 1000; KiB, MiB, GiB); default ${DEFAULT-VALUE}, as HF")
    String maxShardSize;

    @Option(names = "--tokenizer", description = "tokenizer.json to ship (default: the checkpoint's own)")
    Path tokenizer;

    @Option(names = "--overwrite", description = "replace a committed export at --to")
    boolean overwrite;

    @Option(names = "--retries", defaultValue = "5",
            description = "tries per remote operation, with exponential backoff (default ${DEFAULT-VALUE})")
    int retries;

    @Option(names = "--retry-backoff-ms", defaultValue = "1000",
            description = "first wait between tries, doubled each time (default ${DEFAULT-VALUE})")
    long backoffMs;

    @Override
    public Integer call() throws Exception {
        ExportDtype type = ExportDtype.parse(dtype);
        long shardBytes = parseSize(maxShardSize);
        Retry retry = new Retry(retries, backoffMs, System.err);
        Configuration conf = HadoopConfs.fromSparkConf();
        Path staging = Files.createTempDirectory("sparkseek-export-");
        try {
            ModelLoader.Loaded source = ModelLoader.load(checkpoint, conf, 0f, PrecisionPolicy.FP32);
            DeepSeekModel model = source.model();
            String tokJson;
            if (tokenizer != null) {
                if (!Files.isRegularFile(tokenizer)) {
                    throw new IOException("--tokenizer " + tokenizer + " does not exist");
                }
                tokJson = Files.readString(tokenizer, StandardCharsets.UTF_8);
            } else if (source.tokenizer() != null) {
                tokJson = source.tokenizerJson();
            } else {
                throw new IOException("the checkpoint has no " + source.tokenizerLocation() + "; pass --tokenizer"
                        + " path/to/tokenizer.json (e.g. the data dir's) so the export carries the tokenizer the model"
                        + " was trained with");
            }
            BpeTokenizer tok = BpeTokenizer.fromJson(tokJson);
            int vocab = model.config().vocabSize();
            if (tok.vocabSize() > vocab) {
                throw new IllegalArgumentException((tokenizer != null ? tokenizer : source.tokenizerLocation())
                        + " has " + tok.vocabSize() + " tokens but the model's"
                        + " vocab_size is " + vocab + ": not the tokenizer this model was trained with");
            }
            System.err.printf("export: %s -> %s as %s%n", checkpoint, to, type.cliName());
            List<String> files = new ArrayList<>(
                    HfExport.write(model, type, shardBytes, tok.bosId(), tok.eosId(), staging));
            Files.writeString(staging.resolve(ModelLoader.TOKENIZER), tokJson, StandardCharsets.UTF_8);
            Files.writeString(staging.resolve(TOKENIZER_CONFIG), tok.tokenizerConfigJson(),
                    StandardCharsets.UTF_8);
            files.add(ModelLoader.TOKENIZER);
            files.add(TOKENIZER_CONFIG);
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", type.cliName());
            info.put("source", checkpoint);
            if (source.step() != null) {
                info.put("step", source.step());
            }
            new ExportPublisher(retry, System.err).publish(staging, files, info, to, conf, overwrite);
            System.out.println(to);
        } finally {
            new ModelLoader.Local(staging, true).close();
        }
        return 0;
    }

    /** "5GB" → 5,000,000,000; "64MiB" → 67,108,864; a bare number is bytes. */
    static long parseSize(String s) {
        Matcher m = SIZE.matcher(s.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("--max-shard-size " + s + ": expected a number with an optional unit"
                    + " B, KB, MB, GB, KiB, MiB or GiB, e.g. 5GB");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "B" : m.group(2);
        long mult = switch (unit) {
            case "KB" -> 1_000L;
            case "MB" -> 1_000_000L;
            case "GB" -> 1_000_000_000L;
            case "KIB" -> 1L << 10;
            case "MIB" -> 1L << 20;
            case "GIB" -> 1L << 30;
            default -> 1L;
        };
        long bytes = Math.multiplyExact(n, mult);
        if (bytes < 1) {
            throw new IllegalArgumentException("--max-shard-size must be at least 1 byte, got " + s);
        }
        return bytes;
    }
}
