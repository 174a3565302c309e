package io.sparkseek.model.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.optim.AdamW;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Trainer checkpoints (ARCHITECTURE §3): {@code <run>/checkpoints/step-NNNNNNN/} holding {@code config.json},
 * {@code model.safetensors} (FP32 master weights and routing biases, HF names), {@code optimizer.safetensors}
 * (AdamW moments as F32 under {@code <param>.exp_avg[_sq]}), {@code trainer_state.json}, and {@code _COMMITTED}
 * written last. {@code <run>/checkpoints/latest} names the newest committed one. A directory without
 * {@code _COMMITTED} is never loaded. Restoring all of it resumes bit-exactly.
 */
public final class TrainerCheckpoint {
    public static final String COMMITTED = "_COMMITTED";
    public static final String LATEST = "latest";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "trainer_state.json";
    public static final String STATE_FORMAT = "sparkseek-trainer-state/1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private TrainerCheckpoint() {
    }

    /** A loaded trainer state: the step and whatever the trainer stored with it. */
    public record State(long step, Map<String, Object> values) {
    }

    public static Path checkpointsDir(Path runDir) {
        return runDir.resolve("checkpoints");
    }

    public static String dirName(long step) {
        return String.format("step-%07d", step);
    }

    /**
     * Writes a checkpoint for {@code step}, marks it committed, points {@code latest} at it and keeps only the
     * newest {@code keep} committed checkpoints ({@code keep <= 0}: keep all). Returns its directory.
     */
    public static Path save(Path runDir, long step, DeepSeekModel model, AdamW optimizer,
                            Map<String, Object> state, int keep) throws IOException {
        Path root = checkpointsDir(runDir);
        Files.createDirectories(root);
        Path dir = root.resolve(dirName(step));
        if (Files.exists(dir)) {
            deleteRecursively(dir);   // an uncommitted leftover of a failed run, or a re-save of the same step
        }
        Files.createDirectories(dir);
        HfModelDir.save(model, dir);
        List<TensorData> moments = new ArrayList<>();
        optimizer.moments().forEach((name, values) ->
                moments.add(TensorData.f32(name, new long[]{values.length}, values)));
        Safetensors.write(dir.resolve(OPTIMIZER), moments, Map.of(
                "step", Long.toString(optimizer.step()),
                "moments_dtype", optimizer.config().bf16Moments() ? "bf16" : "fp32"));
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("format", STATE_FORMAT);
        st.put("step", step);
        st.put("optimizer_step", optimizer.step());
        st.putAll(state);
        AtomicFiles.writeBytes(dir.resolve(STATE), JSON.writeValueAsBytes(st));
        AtomicFiles.writeBytes(dir.resolve(COMMITTED), new byte[0]);
        AtomicFiles.writeBytes(root.resolve(LATEST), (dirName(step) + "\n").getBytes(StandardCharsets.UTF_8));
        if (keep > 0) {
            List<Path> committed = committed(root);
            for (int i = 0; i < committed.size() - keep; i++) {
                deleteRecursively(committed.get(i));
            }
        }
        return dir;
    }

    /** Whether {@code dir} is a committed trainer checkpoint. */
    public static boolean isCheckpoint(Path dir) {
        return Files.isRegularFile(dir.resolve(COMMITTED)) && Files.isRegularFile(dir.resolve(STATE));
    }

    /**
     * Resolves {@code path} to a committed checkpoint directory: a checkpoint itself, a {@code checkpoints/}
     * directory or a run directory (both via {@code latest}).
     */
    public static Path resolve(Path path) throws IOException {
        if (isCheckpoint(path)) {
            return path;
        }
        if (Files.isDirectory(path.resolve("checkpoints"))) {
            path = path.resolve("checkpoints");
        }
        Path latest = path.resolve(LATEST);
        if (Files.isRegularFile(latest)) {
            String name = Files.readString(latest, StandardCharsets.UTF_8).trim();
            Path dir = path.resolve(name);
            if (!isCheckpoint(dir)) {
                throw new IOException(latest + " names " + name + ", which is not a committed checkpoint (no "
                        + COMMITTED + "); the run directory is damaged");
            }
            return dir;
        }
        if (Files.isDirectory(path) && Files.exists(path.resolve(STATE))) {
            throw new IOException(path + " has no " + COMMITTED + " marker: the checkpoint was not completely"
                    + " written and is not loaded; use an earlier one");
        }
        throw new IOException(path + " is not a trainer checkpoint (no " + COMMITTED + ", no checkpoints/latest)");
    }

    /** Loads weights and routing biases into {@code model} and moments into {@code optimizer}. */
    public static State load(Path checkpoint, DeepSeekModel model, AdamW optimizer) throws IOException {
        Path dir = resolve(checkpoint);
        HfModelDir.loadWeights(model, dir);
        @SuppressWarnings("unchecked")
        Map<String, Object> st = JSON.readValue(dir.resolve(STATE).toFile(), LinkedHashMap.class);
        if (!STATE_FORMAT.equals(st.get("format"))) {
            throw new IOException(dir.resolve(STATE) + ": format " + st.get("format") + ", expected " + STATE_FORMAT);
        }
        long step = ((Number) st.get("step")).longValue();
        long optStep = ((Number) st.get("optimizer_step")).longValue();
        if (optimizer != null) {
            Map<String, float[]> moments = new LinkedHashMap<>();
            try (SafetensorsFile f = Safetensors.open(dir.resolve(OPTIMIZER))) {
                for (String name : f.names()) {
                    moments.put(name, f.getFloats(name));
                }
            }
            optimizer.restore(moments, optStep);
        }
        return new State(step, st);
    }

    /** Committed checkpoint directories under {@code root}, oldest first. */
    public static List<Path> committed(Path root) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "step-*")) {
            for (Path p : ds) {
                if (isCheckpoint(p)) {
                    out.add(p);
                }
            }
        }
        out.sort(Comparator.comparing(p -> p.getFileName().toString()));
        return out;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
