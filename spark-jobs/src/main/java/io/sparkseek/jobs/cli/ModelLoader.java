package io.sparkseek.jobs.cli;

import io.sparkseek.model.config.PrecisionPolicy;
import io.sparkseek.model.io.HfModelDir;
import io.sparkseek.model.io.TrainerCheckpoint;
import io.sparkseek.model.layer.DeepSeekModel;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.jobs.checkpoint.CheckpointStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Loads {@code --checkpoint}: a trainer checkpoint (or run dir, via latest) or an HF-layout directory, on the
 * local disk or, through Hadoop, on {@code hdfs://} / {@code s3a://} (copied to a temporary local directory first).
 */
final class ModelLoader {
    /** The tokenizer file training stores in each checkpoint and export ships. */
    static final String TOKENIZER = "tokenizer.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelLoader() {
    }

    /** A checkpoint directory on the local disk; a temporary copy of a remote one is deleted on close. */
    record Local(Path dir, boolean temporary) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            if (temporary) {
                try (Stream<Path> walk = Files.walk(dir)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    /**
     * {@code --checkpoint} as a local directory. A local path (or {@code file:} URI) is used in place; a remote
     * run dir resolves to its latest committed checkpoint, a remote trainer checkpoint must have
     * {@code _COMMITTED}; the chosen directory's files are copied to a temporary local directory.
     */
    static Local localize(String checkpoint, Configuration conf) throws IOException {
        URI uri = new org.apache.hadoop.fs.Path(checkpoint).toUri();
        if (uri.getScheme() == null || "file".equals(uri.getScheme())) {
            return new Local(uri.getScheme() == null ? Paths.get(checkpoint) : Paths.get(uri), false);
        }
        org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(checkpoint);
        FileSystem fs = dir.getFileSystem(conf);
        if (!fs.exists(dir)) {
            throw new IOException("--checkpoint " + checkpoint + " does not exist");
        }
        if (fs.exists(new org.apache.hadoop.fs.Path(dir, "checkpoints"))) {
            CheckpointStore store = new CheckpointStore(checkpoint, conf);
            dir = store.latest().orElseThrow(() -> new IOException("--checkpoint " + checkpoint
                    + " is a run dir without a committed checkpoint (no checkpoints/" + TrainerCheckpoint.LATEST
                    + "): did the run save one?"));
        } else if (fs.exists(new org.apache.hadoop.fs.Path(dir, TrainerCheckpoint.STATE))
                && !fs.exists(new org.apache.hadoop.fs.Path(dir, TrainerCheckpoint.COMMITTED))) {
            throw new IOException("--checkpoint " + checkpoint + " has no " + TrainerCheckpoint.COMMITTED
                    + ": the checkpoint was not completely written; use an earlier one");
        }
        Path local = Files.createTempDirectory("sparkseek-model-");
        try {
            for (FileStatus st : fs.listStatus(dir)) {
                if (st.isFile()) {
                    fs.copyToLocalFile(false, st.getPath(),
                            new org.apache.hadoop.fs.Path(local.resolve(st.getPath().getName()).toUri()), true);
                }
            }
            return new Local(local, true);
        } catch (IOException | RuntimeException e) {
            new Local(local, true).close();
            throw e;
        }
    }

    /**
     * A loaded {@code --checkpoint}: the model, the bytes of the {@code tokenizer.json} next to it (null if none),
     * where that file is or would be (for messages), and the trainer step (null for an HF directory).
     */
    record Loaded(DeepSeekModel model, byte[] tokenizer, String tokenizerLocation, Long step) {
        /** The tokenizer file as text (UTF-8), or null. */
        String tokenizerJson() {
            return tokenizer == null ? null : new String(tokenizer, StandardCharsets.UTF_8);
        }
    }

    /** Loads {@code --checkpoint} (local, hdfs:// or s3a://; see {@link #localize} and {@link #resolve}). */
    static Loaded load(String checkpoint, Configuration conf, float balanceAlpha, PrecisionPolicy policy)
            throws IOException {
        try (Local local = localize(checkpoint, conf)) {
            Path dir = resolve(local.dir());
            DeepSeekModel model = HfModelDir.load(dir, balanceAlpha, policy);   // names a missing or damaged file
            Path tok = dir.resolve(TOKENIZER);
            byte[] json = Files.isRegularFile(tok) ? Files.readAllBytes(tok) : null;
            Path state = dir.resolve(TrainerCheckpoint.STATE);
            Long step = Files.isRegularFile(state) ? JSON.readTree(state.toFile()).path("step").asLong() : null;
            String where = local.temporary() ? checkpoint + "/" + TOKENIZER : tok.toString();
            return new Loaded(model, json, where, step);
        }
    }

    /** The model directory {@code path} stands for: itself, or a run dir's / trainer checkpoint's committed one. */
    static Path resolve(Path path) throws IOException {
        if (!Files.isDirectory(path)) {
            throw new IOException("--checkpoint " + path + " is not a directory");
        }
        boolean trainer = Files.exists(path.resolve(TrainerCheckpoint.STATE))
                || Files.exists(path.resolve(TrainerCheckpoint.LATEST))
                || Files.isDirectory(TrainerCheckpoint.checkpointsDir(path));
        if (trainer) {
            return TrainerCheckpoint.resolve(path);
        }
        if (Files.exists(path.resolve(HfModelDir.CONFIG))) {
            return path;
        }
        throw new IOException("--checkpoint " + path + " holds neither an HF-layout model (" + HfModelDir.CONFIG
                + " + " + HfModelDir.SINGLE + ") nor a trainer checkpoint or run directory (" + TrainerCheckpoint.STATE
                + " + " + TrainerCheckpoint.COMMITTED + ", or checkpoints/" + TrainerCheckpoint.LATEST
                + "): is the path right?");
    }
}
