package io.sparkseek.jobs.export;

import io.sparkseek.data.shard.DataDir;
import io.sparkseek.model.io.ExportMarker;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Copies a locally written export to its destination on any Hadoop file system (local, {@code hdfs://},
 * {@code s3a://}) and commits it:
 * <ol>
 *   <li>refuse a destination holding a committed export (unless overwriting) or files that are not an export's;
 *       remove the old {@code _SUCCESS} first, so no reader sees an old marker over new files;</li>
 *   <li>upload every file under {@code DEST/_temporary/<uuid>/}, then check its size and the SHA-256 of what the
 *       store returns against the local file;</li>
 *   <li>move each file to {@code DEST/} (a server-side copy on S3) and check its size again; delete export files
 *       of an earlier attempt that this export does not have, and the temporary prefix;</li>
 *   <li>write {@code _SUCCESS} (file list with sizes and SHA-256, {@link ExportMarker}) last.</li>
 * </ol>
 * Every remote operation is retried with exponential backoff ({@link Retry}). A failure leaves no {@code _SUCCESS},
 * so readers refuse the destination, and running the export again to the same destination replaces the partial
 * files and commits.
 */
public final class ExportPublisher {
    public static final String TEMPORARY = "_temporary";
    /** Names an export may contain; anything else in the destination is somebody else's and is not touched. */
    private static final Pattern EXPORT_FILE = Pattern.compile(
            "config\\.json|generation_config\\.json|tokenizer\\.json|tokenizer_config\\.json"
                    + "|model\\.safetensors|model-\\d{5}-of-\\d{5}\\.safetensors|model\\.safetensors\\.index\\.json"
                    + "|" + ExportMarker.NAME + "|" + TEMPORARY);

    private final Retry retry;
    private final PrintStream log;

    public ExportPublisher(Retry retry, PrintStream log) {
        this.retry = retry;
        this.log = log;
    }

    /**
     * Publishes {@code files} of {@code localDir} to {@code to} and commits them; returns the qualified destination.
     *
     * @param info extra marker entries (dtype, source checkpoint, ...)
     */
    public Path publish(java.nio.file.Path localDir, List<String> files, Map<String, Object> info, String to,
                        Configuration conf, boolean overwrite) throws IOException {
        Path dest0 = new Path(to);
        FileSystem fs = DataDir.fileSystem(dest0, conf);
        Path dest = fs.makeQualified(dest0);
        Set<String> old = prepareDestination(fs, dest, overwrite);
        try {
            return commit(localDir, files, info, fs, dest, old);
        } catch (IOException e) {
            throw new IOException(e.getMessage() + "; the export to " + to + " is not committed (no "
                    + ExportMarker.NAME + "): run the same command again to finish it", e);
        }
    }

    private Path commit(java.nio.file.Path localDir, List<String> files, Map<String, Object> info, FileSystem fs,
                        Path dest, Set<String> old) throws IOException {
        List<ExportMarker.FileEntry> local = ExportMarker.describe(localDir, files);
        long t0 = System.nanoTime();
        Path tmp = new Path(new Path(dest, TEMPORARY), UUID.randomUUID().toString());
        long bytes = 0;
        for (ExportMarker.FileEntry f : local) {
            Path src = new Path(localDir.resolve(f.name()).toUri());
            Path staged = new Path(tmp, f.name());
            long s0 = System.nanoTime();
            retry.call("uploading " + f.name() + " to " + staged, () -> {
                fs.copyFromLocalFile(false, true, src, staged);
                return null;
            });
            retry.call("verifying " + staged, () -> {
                verify(fs, staged, f, true);
                return null;
            });
            bytes += f.bytes();
            log.printf("export: %-40s %,12d bytes  uploaded and verified in %.1f s%n", f.name(), f.bytes(),
                    (System.nanoTime() - s0) / 1e9);
        }
        for (ExportMarker.FileEntry f : local) {
            Path staged = new Path(tmp, f.name());
            Path target = new Path(dest, f.name());
            retry.call("moving " + staged + " to " + target, () -> {
                if (fs.exists(target) && !fs.delete(target, false)) {
                    throw new IOException("cannot delete the earlier " + target);
                }
                if (!fs.rename(staged, target)) {
                    // A retried rename may already have happened: the target is then complete and the source gone.
                    if (!(fs.exists(target) && !fs.exists(staged))) {
                        throw new IOException("rename returned false");
                    }
                }
                verify(fs, target, f, false);
                return null;
            });
            old.remove(f.name());
        }
        for (String stale : old) {
            Path p = new Path(dest, stale);
            retry.call("deleting " + p + " (left by an earlier export)", () -> fs.delete(p, true));
        }
        Path temporary = new Path(dest, TEMPORARY);
        retry.call("deleting " + temporary, () -> fs.delete(temporary, true));
        byte[] marker = ExportMarker.toJson(local, info);
        Path success = new Path(dest, ExportMarker.NAME);
        retry.call("writing " + success, () -> {
            try (FSDataOutputStream out = fs.create(success, true)) {
                out.write(marker);
            }
            return null;
        });
        log.printf("export: committed %s (%d files, %,d bytes) in %.1f s%n", dest, local.size() + 1, bytes,
                (System.nanoTime() - t0) / 1e9);
        return dest;
    }

    /**
     * Checks what is at {@code dest} and returns the names of export files already there (an earlier, failed or
     * overwritten attempt). Removes the old marker.
     */
    private Set<String> prepareDestination(FileSystem fs, Path dest, boolean overwrite) throws IOException {
        FileStatus[] listing = retry.call("listing " + dest, () -> {
            try {
                return fs.listStatus(dest);
            } catch (FileNotFoundException e) {
                return new FileStatus[0];
            }
        });
        if (listing.length == 1 && listing[0].isFile() && listing[0].getPath().equals(dest)) {
            throw new IOException("--to " + dest + " is a file; give a directory (prefix) to export into");
        }
        Set<String> existing = new HashSet<>();
        List<String> foreign = new ArrayList<>();
        for (FileStatus st : listing) {
            String name = st.getPath().getName();
            if (EXPORT_FILE.matcher(name).matches()) {
                existing.add(name);
            } else {
                foreign.add(name);
            }
        }
        if (!foreign.isEmpty()) {
            throw new IOException("--to " + dest + " already holds files that are not part of an export ("
                    + String.join(", ", foreign.subList(0, Math.min(5, foreign.size())))
                    + "); export into an empty or new directory");
        }
        Path success = new Path(dest, ExportMarker.NAME);
        if (existing.contains(ExportMarker.NAME)) {
            if (!overwrite) {
                throw new IOException("--to " + dest + " already holds a committed export (" + ExportMarker.NAME
                        + "); pass --overwrite to replace it or choose another destination");
            }
            retry.call("deleting the old " + success, () -> fs.delete(success, false));
        } else if (!existing.isEmpty()) {
            log.println("export: " + dest + " holds an uncommitted earlier attempt; replacing it");
        }
        existing.remove(ExportMarker.NAME);
        existing.remove(TEMPORARY);
        return existing;
    }

    /** Size, and with {@code content} the SHA-256 of the stored bytes, must equal the local file's. */
    private static void verify(FileSystem fs, Path p, ExportMarker.FileEntry f, boolean content) throws IOException {
        long size = fs.getFileStatus(p).getLen();
        if (size != f.bytes()) {
            throw new IOException(p + " is " + size + " bytes after upload, expected " + f.bytes());
        }
        if (content) {
            String sha = DataDir.sha256(fs, p);
            if (!sha.equals(f.sha256())) {
                throw new IOException(p + " has SHA-256 " + sha + " after upload, expected " + f.sha256());
            }
        }
    }
}
