package io.sparkseek.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.model.config.ModelConfig;
import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.fp8.BlockQuantizer;
import io.sparkseek.model.fp8.QuantizedMatrix;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.layer.Param;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model in the HuggingFace DeepSeek-V3 layout (spec §9): {@code config.json} plus {@code model.safetensors}
 * or shards listed in {@code model.safetensors.index.json}. Reads F32, BF16 and F16 weights, and F8_E4M3 weights
 * with their 128×128 {@code weight_scale_inv} blocks, into FP32; writes FP32 ({@link HfExport} writes the other
 * dtypes). An interrupted SparkSeek export (no {@code _SUCCESS}) is refused ({@link ExportMarker}). The routing bias {@code mlp.gate.e_score_correction_bias} is stored as F32 next to the weights.
 */
public final class HfModelDir {
    public static final String CONFIG = "config.json";
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    private static final Pattern LAYER = Pattern.compile("^model\\.layers\\.(\\d+)\\.");
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfModelDir() {
    }

    /** Whether {@code dir} looks like an HF model directory (has config.json and weights). */
    public static boolean isModelDir(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG))
                && (Files.isRegularFile(dir.resolve(SINGLE)) || Files.isRegularFile(dir.resolve(INDEX)));
    }

    /** Every tensor written for {@code model}, in HF order, FP32: weights and routing biases. */
    public static List<TensorData> tensors(DeepSeekModel model) {
        List<TensorData> out = new ArrayList<>();
        Map<String, float[]> biases = model.routerBiases();
        for (Param p : model.params()) {
            long[] shape = Arrays.stream(p.shape()).asLongStream().toArray();
            out.add(TensorData.f32(p.name(), shape, p.w()));
            if (p.name().endsWith(".mlp.gate.weight")) {
                String b = p.name().substring(0, p.name().length() - ".weight".length()) + ".e_score_correction_bias";
                float[] bias = biases.get(b);
                out.add(TensorData.f32(b, new long[]{bias.length}, bias));
            }
        }
        return out;
    }

    /**
     * Writes config.json and model.safetensors (FP32) into {@code dir}, creating it; each file is replaced
     * atomically, the weights before the config, so a reader never sees a config without its weights.
     */
    public static void save(DeepSeekModel model, Path dir) throws IOException {
        Files.createDirectories(dir);
        Safetensors.write(dir.resolve(SINGLE), tensors(model), Map.of());
        model.config().write(dir.resolve(CONFIG));
    }

    /** Loads config.json and the weights from {@code dir} into a new FP32 model. */
    public static DeepSeekModel load(Path dir, float balanceAlpha) throws IOException {
        return load(dir, balanceAlpha, PrecisionPolicy.FP32);
    }

    /** Loads config.json and the weights from {@code dir} into a new model running with {@code policy}. */
    public static DeepSeekModel load(Path dir, float balanceAlpha, PrecisionPolicy policy) throws IOException {
        Path configFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new IOException(dir + ": no " + CONFIG + " (expected an HF-layout model directory or a trainer"
                    + " checkpoint: config.json + model.safetensors)");
        }
        ExportMarker.requireComplete(dir);
        ModelConfig cfg = ModelConfig.read(configFile);
        DeepSeekModel model = new DeepSeekModel(cfg, balanceAlpha, policy);
        loadWeights(model, dir);
        return model;
    }

    /** Fills {@code model}'s weights and routing biases from the safetensors file(s) in {@code dir}. */
    public static void loadWeights(DeepSeekModel model, Path dir) throws IOException {
        Map<String, Path> location = locate(dir);
        Map<String, float[]> wanted = new LinkedHashMap<>();
        Map<String, int[]> shapes = new HashMap<>();
        for (Param p : model.params()) {
            wanted.put(p.name(), p.w());
            shapes.put(p.name(), p.shape());
        }
        model.routerBiases().forEach((name, b) -> {
            wanted.put(name, b);
            shapes.put(name, new int[]{b.length});
        });

        List<String> missing = new ArrayList<>();
        for (String name : wanted.keySet()) {
            if (!location.containsKey(name)) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            throw new IOException(dir + ": " + missing.size() + " tensor(s) that config.json implies are missing, e.g. "
                    + missing.subList(0, Math.min(5, missing.size()))
                    + " (is config.json the one these weights were saved with?)");
        }
        int layers = model.config().numHiddenLayers();
        List<String> unexpected = new ArrayList<>();
        for (String name : location.keySet()) {
            if (wanted.containsKey(name)) {
                continue;
            }
            if (name.endsWith(HfExport.SCALE_SUFFIX)
                    && wanted.containsKey(name.substring(0, name.length() - HfExport.SCALE_SUFFIX.length()))) {
                continue; // the block scales of an FP8 weight, read with it
            }
            Matcher m = LAYER.matcher(name);
            if (m.find() && Integer.parseInt(m.group(1)) >= layers) {
                continue; // multi-token-prediction modules (spec §5) are stored after the main layers: not used
            }
            unexpected.add(name);
        }
        if (!unexpected.isEmpty()) {
            throw new IOException(dir + ": " + unexpected.size() + " tensor(s) this model has no place for, e.g. "
                    + unexpected.subList(0, Math.min(5, unexpected.size())));
        }

        Map<Path, List<String>> byFile = new LinkedHashMap<>();
        for (String name : wanted.keySet()) {
            byFile.computeIfAbsent(location.get(name), k -> new ArrayList<>()).add(name);
        }
        for (Map.Entry<Path, List<String>> e : byFile.entrySet()) {
            try (SafetensorsFile f = Safetensors.open(e.getKey())) {
                for (String name : e.getValue()) {
                    long[] got = f.info(name).shape();
                    int[] want = shapes.get(name);
                    if (!Arrays.equals(got, Arrays.stream(want).asLongStream().toArray())) {
                        throw new IOException(e.getKey() + ": tensor " + name + " has shape " + Arrays.toString(got)
                                + " but config.json implies " + Arrays.toString(want));
                    }
                    boolean fp8 = f.info(name).dtype() == Dtype.F8_E4M3;
                    if (!fp8 && location.containsKey(name + HfExport.SCALE_SUFFIX)) {
                        throw new IOException(e.getKey() + ": " + name + HfExport.SCALE_SUFFIX + " scales an FP8"
                                + " weight but " + name + " is " + f.info(name).dtype() + " (a mixed-up FP8 export?)");
                    }
                    float[] values = fp8 ? dequantize(f, name, want, location) : f.getFloats(name);
                    System.arraycopy(values, 0, wanted.get(name), 0, values.length);
                }
            }
        }
    }

    /**
     * An F8_E4M3 weight {@code [rows, cols]} as FP32: {@code code × weight_scale_inv[i / 128, j / 128]} (spec §9.3),
     * the scale read from whichever file holds it.
     */
    private static float[] dequantize(SafetensorsFile f, String name, int[] shape, Map<String, Path> location)
            throws IOException {
        String scaleName = name + HfExport.SCALE_SUFFIX;
        Path scaleFile = location.get(scaleName);
        if (shape.length != 2 || scaleFile == null) {
            throw new IOException(f.path() + ": tensor " + name + " is F8_E4M3 but "
                    + (shape.length != 2 ? "not a matrix" : "has no " + scaleName + " to dequantize it with"));
        }
        int rows = shape[0];
        int cols = shape[1];
        int block = BlockQuantizer.BLOCK;
        long[] scaleShape = {(rows + block - 1) / block, (cols + block - 1) / block};
        float[] scales;
        if (scaleFile.equals(f.path())) {
            scales = readScales(f, scaleName, scaleShape);
        } else {
            try (SafetensorsFile g = Safetensors.open(scaleFile)) {
                scales = readScales(g, scaleName, scaleShape);
            }
        }
        return new QuantizedMatrix(rows, cols, block, block, f.getBytes(name), scales).dequantize();
    }

    private static float[] readScales(SafetensorsFile f, String name, long[] shape) throws IOException {
        TensorInfo info = f.info(name);
        if (!Arrays.equals(info.shape(), shape) || info.dtype() != Dtype.F32) {
            throw new IOException(f.path() + ": " + name + " is " + info.dtype() + " " + Arrays.toString(info.shape())
                    + " but 128x128 block scales of its weight must be F32 " + Arrays.toString(shape));
        }
        return f.getFloats(name);
    }

    /** Tensor name → file holding it, from the index or the single file. */
    private static Map<String, Path> locate(Path dir) throws IOException {
        Map<String, Path> out = new LinkedHashMap<>();
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(index)) {
            JsonNode root;
            try {
                root = JSON.readTree(index.toFile());
            } catch (IOException e) {
                throw new IOException(index + ": not valid JSON: " + e.getMessage(), e);
            }
            JsonNode map = root.get("weight_map");
            if (map == null || !map.isObject()) {
                throw new IOException(index + ": no \"weight_map\" object");
            }
            Set<String> files = new LinkedHashSet<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String file = e.getValue().asText();
                if (file.contains("/") || file.contains("\\") || file.startsWith(".")) {
                    throw new IOException(index + ": shard name " + file + " must be a plain file name in " + dir);
                }
                files.add(file);
                out.put(e.getKey(), dir.resolve(file));
            }
            // Every listed shard must exist and contain what the index says.
            for (String file : files) {
                Path shard = dir.resolve(file);
                try (SafetensorsFile f = Safetensors.open(shard)) {
                    for (Map.Entry<String, Path> e : out.entrySet()) {
                        if (e.getValue().equals(shard) && !f.contains(e.getKey())) {
                            throw new IOException(index + " places " + e.getKey() + " in " + file
                                    + " but that shard does not contain it");
                        }
                    }
                }
            }
            return out;
        }
        Path single = dir.resolve(SINGLE);
        if (!Files.isRegularFile(single)) {
            throw new IOException(dir + ": neither " + SINGLE + " nor " + INDEX + " found");
        }
        try (SafetensorsFile f = Safetensors.open(single)) {
            for (String name : f.names()) {
                out.put(name, single);
            }
        }
        return out;
    }
}
