package io.sparkseek.jobs.checkpoint;

import io.sparkseek.data.shard.DataDir;
import io.sparkseek.model.io.TrainerCheckpoint;
import io.sparkseek.model.layer.DeepSeekModel;
import io.sparkseek.model.optim.AdamW;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Trainer checkpoints (ARCHITECTURE §3) on any Hadoop file system: {@code <run>/checkpoints/step-NNNNNNN/} with
 * {@code config.json}, {@code model.safetensors}, {@code optimizer.safetensors}, {@code trainer_state.json} and
 * any extra files (e.g. {@code tokenizer.json}), then {@code _COMMITTED} written last; {@code checkpoints/latest}
 * names the newest committed one. A directory without {@code _COMMITTED} is never loaded.
 *
 * <p>The files are produced by {@link TrainerCheckpoint} in a local temporary directory and then uploaded file by
 * file (sizes checked), so the same code writes to {@code file:}, {@code hdfs://} and {@code s3a://}. If the upload
 * fails, the partial directory has no {@code _COMMITTED} and {@code latest} still names the previous checkpoint.
 */
public final class CheckpointStore {
    private final Path root;
    private final FileSystem fs;

    /** A store for the run directory {@code runUri}; its checkpoints live in {@code runUri/checkpoints}. */
    public CheckpointStore(String runUri, Configuration conf) throws IOException {
        Path run = new Path(runUri);
        this.fs = DataDir.fileSystem(run, conf); // raw on file:, no .crc side files
        this.root = fs.makeQualified(new Path(run, "checkpoints"));
    }

    /** Where checkpoints are written. */
    public Path root() {
        return root;
    }

    /**
     * Writes the checkpoint of {@code step}, commits it, points {@code latest} at it and keeps the newest
     * {@code keep} committed checkpoints ({@code keep <= 0}: all). {@code extraFiles} (name → bytes) are stored next
     * to the weights. Returns the checkpoint's directory.
     */
    public Path save(long step, DeepSeekModel model, AdamW optimizer, Map<String, Object> state,
                     Map<String, byte[]> extraFiles, int keep) throws IOException {
        java.nio.file.Path tmpRun = Files.createTempDirectory("sparkseek-checkpoint-");
        try {
            java.nio.file.Path local = TrainerCheckpoint.save(tmpRun, step, model, optimizer, state, 0);
            for (Map.Entry<String, byte[]> e : extraFiles.entrySet()) {
                Files.write(local.resolve(e.getKey()), e.getValue());
            }
            Path dir = new Path(root, TrainerCheckpoint.dirName(step));
            fs.delete(dir, true); // an uncommitted leftover of a failed save, or a re-save of the same step
            fs.mkdirs(dir);
            List<java.nio.file.Path> files;
            try (Stream<java.nio.file.Path> s = Files.list(local)) {
                files = s.filter(p -> !p.getFileName().toString().equals(TrainerCheckpoint.COMMITTED)).sorted().toList();
            }
            for (java.nio.file.Path f : files) {
                Path to = new Path(dir, f.getFileName().toString());
                fs.copyFromLocalFile(false, true, new Path(f.toUri()), to);
                long size = fs.getFileStatus(to).getLen();
                if (size != Files.size(f)) {
                    throw new IOException("checkpoint file " + to + " has " + size + " bytes after upload, expected "
                            + Files.size(f) + "; the checkpoint is not committed");
                }
            }
            writeBytes(new Path(dir, TrainerCheckpoint.COMMITTED), new byte[0]);
            DataDir.replaceFile(fs, new Path(root, TrainerCheckpoint.LATEST),
                    (TrainerCheckpoint.dirName(step) + "\n").getBytes(StandardCharsets.UTF_8));
            if (keep > 0) {
                List<Path> committed = committed();
                for (int i = 0; i < committed.size() - keep; i++) {
                    fs.delete(committed.get(i), true);
                }
            }
            return dir;
        } finally {
            deleteLocal(tmpRun);
        }
    }

    /** The newest committed checkpoint named by {@code latest}, if the run has one. */
    public Optional<Path> latest() throws IOException {
        Path latest = new Path(root, TrainerCheckpoint.LATEST);
        String name;
        try (InputStream in = fs.open(latest)) {
            name = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        } catch (FileNotFoundException e) {
            return Optional.empty();
        }
        Path dir = new Path(root, name);
        if (!fs.exists(new Path(dir, TrainerCheckpoint.COMMITTED))) {
            throw new IOException(latest + " names " + name + ", which is not a committed checkpoint (no "
                    + TrainerCheckpoint.COMMITTED + "); the run directory is damaged: point latest at an earlier "
                    + "committed step-* directory");
        }
        return Optional.of(dir);
    }

    /** What {@link #load} read: the trainer state and the extra files asked for. */
    public record Loaded(Path dir, TrainerCheckpoint.State state, Map<String, byte[]> extraFiles) {
    }

    /**
     * Loads the committed checkpoint {@code dir} into {@code model} and {@code optimizer} (may be null), with the
     * extra files {@code extraNames} (absent ones are an error naming them).
     */
    public Loaded load(Path dir, DeepSeekModel model, AdamW optimizer, List<String> extraNames) throws IOException {
        if (!fs.exists(new Path(dir, TrainerCheckpoint.COMMITTED))) {
            throw new IOException(dir + " has no " + TrainerCheckpoint.COMMITTED + " marker: it was not completely "
                    + "written and is not loaded; use an earlier checkpoint");
        }
        java.nio.file.Path tmp = Files.createTempDirectory("sparkseek-checkpoint-");
        try {
            java.nio.file.Path local = tmp.resolve(dir.getName());
            Files.createDirectories(local);
            for (FileStatus f : fs.listStatus(dir)) {
                if (f.isFile()) {
                    fs.copyToLocalFile(false, f.getPath(), new Path(local.resolve(f.getPath().getName()).toUri()), true);
                }
            }
            TrainerCheckpoint.State state = TrainerCheckpoint.load(local, model, optimizer);
            Map<String, byte[]> extras = new LinkedHashMap<>();
            for (String name : extraNames) {
                java.nio.file.Path p = local.resolve(name);
                if (!Files.isRegularFile(p)) {
                    throw new IOException("checkpoint " + dir + " has no " + name);
                }
                extras.put(name, Files.readAllBytes(p));
            }
            return new Loaded(dir, state, extras);
        } finally {
            deleteLocal(tmp);
        }
    }

    /** Committed checkpoint directories, oldest first. */
    public List<Path> committed() throws IOException {
        List<Path> out = new ArrayList<>();
        if (!fs.exists(root)) {
            return out;
        }
        for (FileStatus f : fs.listStatus(root)) {
            if (f.isDirectory() && f.getPath().getName().startsWith("step-")
                    && fs.exists(new Path(f.getPath(), TrainerCheckpoint.COMMITTED))) {
                out.add(f.getPath());
            }
        }
        out.sort(Comparator.comparing(Path::getName));
        return out;
    }

    private void writeBytes(Path p, byte[] bytes) throws IOException {
        try (OutputStream o = fs.create(p, true)) {
            o.write(bytes);
        }
    }

    private static void deleteLocal(java.nio.file.Path dir) throws IOException {
        try (Stream<java.nio.file.Path> walk = Files.walk(dir)) {
            for (java.nio.file.Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
