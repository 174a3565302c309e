package io.sparkseek.jobs.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkseek.data.shard.DataDir;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code <run>/metrics.jsonl}: one {@link StageMetrics} JSON object per line, on any Hadoop file system. Object
 * stores cannot append, so the whole (small) file is rewritten after each stage; a resumed run first drops the lines
 * of stages after the checkpoint it resumes from, so the file never shows a stage twice.
 */
public final class MetricsLog {
    public static final String FILE = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FileSystem fs;
    private final Path file;
    private final List<String> lines = new ArrayList<>();

    private MetricsLog(FileSystem fs, Path file) {
        this.fs = fs;
        this.file = file;
    }

    /** Opens the log of {@code runUri}, keeping the lines of stages up to {@code keepThroughStage} (0: none). */
    public static MetricsLog open(String runUri, Configuration conf, long keepThroughStage) throws IOException {
        Path run = new Path(runUri);
        FileSystem fs = DataDir.fileSystem(run, conf);
        MetricsLog log = new MetricsLog(fs, new Path(run, FILE));
        for (StageMetrics m : read(fs, log.file)) {
            if (m.stage() <= keepThroughStage) {
                log.lines.add(JSON.writeValueAsString(m));
            }
        }
        log.flush();
        return log;
    }

    /** Adds one stage's line and rewrites the file. */
    public void append(StageMetrics m) throws IOException {
        lines.add(JSON.writeValueAsString(m));
        flush();
    }

    private void flush() throws IOException {
        fs.mkdirs(file.getParent());
        try (OutputStream o = fs.create(file, true)) {
            for (String line : lines) {
                o.write(line.getBytes(StandardCharsets.UTF_8));
                o.write('\n');
            }
        }
    }

    /** The stages recorded in {@code file} (empty when it does not exist); a malformed line is an error naming it. */
    public static List<StageMetrics> read(FileSystem fs, Path file) throws IOException {
        String text;
        try (InputStream in = fs.open(file)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (FileNotFoundException e) {
            return List.of();
        }
        List<StageMetrics> out = new ArrayList<>();
        int lineNo = 0;
        for (String line : text.split("\n")) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(JSON.readValue(line, StageMetrics.class));
            } catch (IOException e) {
                throw new IOException(file + ":" + lineNo + ": not a metrics line (" + e.getMessage().lines()
                        .findFirst().orElse("") + ")", e);
            }
        }
        return out;
    }
}
