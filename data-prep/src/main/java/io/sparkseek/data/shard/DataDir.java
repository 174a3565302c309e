package io.sparkseek.data.shard;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

/**
 * A prepared data dir: {@code manifest.json}, {@code tokenizer.json}, the shards and hash indexes it lists
 * (ARCHITECTURE.md §3). The manifest is committed last and atomically, so a reader sees either the previous
 * complete data dir or the new one.
 */
public final class DataDir {
    public static final String MANIFEST = "manifest.json";
    static final String TEMP_INFIX = ".tmp-";
    /** Schemes whose single-object PUT is atomic but whose rename is a copy: write the manifest in place. */
    private static final Set<String> OBJECT_STORES = Set.of("s3a", "s3", "s3n", "gs", "abfs", "abfss", "wasb",
            "wasbs", "oss", "cos", "cosn", "obs");

    private DataDir() {}

    /**
     * The file system to read and write a data dir with. For {@code file:} paths this is the raw local file system:
     * Hadoop's default local one writes a {@code .crc} side file next to every file, which would only duplicate
     * the SHA-256 checksums the manifest already holds.
     */
    public static FileSystem fileSystem(Path dir, Configuration conf) throws IOException {
        FileSystem fs = dir.getFileSystem(conf);
        return fs instanceof org.apache.hadoop.fs.LocalFileSystem local ? local.getRaw() : fs;
    }

    /** The manifest of {@code dir}; a ManifestException names the file, or says the dir is not prepared. */
    public static Manifest readManifest(FileSystem fs, Path dir) throws IOException {
        return readManifestIfPresent(fs, dir).orElseThrow(() -> new ManifestException(dir
                + " is not a prepared data dir: it has no " + MANIFEST + ". Run `scripts/sparkseek prep --input ..."
                + " --output " + dir + "` first, or check the path"));
    }

    /** The manifest of {@code dir}, or empty when it has none (a new output dir). */
    public static Optional<Manifest> readManifestIfPresent(FileSystem fs, Path dir) throws IOException {
        Path file = new Path(dir, MANIFEST);
        byte[] bytes;
        try (InputStream in = fs.open(file)) {
            bytes = in.readAllBytes();
        } catch (FileNotFoundException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new ManifestException("could not read " + file + ": " + e, e);
        }
        return Optional.of(Manifest.fromJson(bytes, file.toString()));
    }

    /**
     * Writes {@code m} as {@code dir/manifest.json}, replacing any previous one atomically: through a temp file
     * and an overwriting rename where rename is atomic (file: through java.nio, hdfs: and others through
     * FileContext), as one PUT on object stores. Call it
     * after every file the manifest lists is complete. On failure the previous manifest is left as it was and
     * no temp file remains.
     */
    public static void commitManifest(FileSystem fs, Path dir, Manifest m) throws IOException {
        byte[] json = m.toJson();
        if (!Manifest.fromJson(json, "the manifest about to be written to " + dir).equals(m)) {
            throw new IllegalStateException("the manifest for " + dir + " does not read back as written; not committed");
        }
        replaceFile(fs, new Path(fs.makeQualified(dir), MANIFEST), json);
    }

    /**
     * Replaces {@code file} with {@code bytes} so that a reader sees the old or the new content, never a part:
     * on object stores (s3a, gs, abfs, ...) one PUT, which is atomic there; elsewhere a temp file next to it,
     * moved over it atomically (java.nio on file:, FileContext rename with OVERWRITE on hdfs: and others). On
     * failure the temp file is removed and the old content stays.
     */
    public static void replaceFile(FileSystem fs, Path file, byte[] bytes) throws IOException {
        Path target = fs.makeQualified(file);
        if (isObjectStore(target)) {
            writeBytes(fs, target, bytes, true);
            return;
        }
        Path temp = new Path(target.getParent(), target.getName() + TEMP_INFIX + UUID.randomUUID());
        writeBytes(fs, temp, bytes, false);
        try {
            if ("file".equals(target.toUri().getScheme())) {
                replaceLocal(temp, target);
            } else {
                FileContext.getFileContext(fs.getUri(), conf(fs)).rename(temp, target, Options.Rename.OVERWRITE);
            }
        } catch (IOException | RuntimeException e) {
            ShardFiles.deleteQuietly(fs, temp, e);
            throw new IOException("could not move " + temp + " over " + target + "; the previous " + target.getName()
                    + " is unchanged: " + e, e);
        }
    }

    /**
     * Checks that every file the manifest lists (shards, hash indexes, the tokenizer) exists with the listed
     * size and sha256; the manifest itself was checked on read (unique paths, tokens = sequences × (seq_len+1),
     * run totals). Lists every problem found, each naming its file.
     */
    public static void verify(FileSystem fs, Path dir) throws IOException {
        Manifest m = readManifest(fs, dir);
        List<String> problems = new ArrayList<>();
        for (ShardInfo s : m.allFiles()) {
            check(fs, dir, s.path(), s.bytes(), s.sha256(), problems);
        }
        check(fs, dir, m.tokenizer(), -1, m.tokenizerSha256(), problems);
        if (!problems.isEmpty()) {
            throw new CorruptShardException("data dir " + dir + " failed verification, " + problems.size()
                    + " problem(s):\n  " + String.join("\n  ", problems)
                    + "\nRe-run `scripts/sparkseek prep` into a new output dir, or restore these files");
        }
    }

    /** Streaming hex sha256 of a file. */
    public static String sha256(FileSystem fs, Path file) throws IOException {
        return ShardFiles.sha256(fs, file);
    }

    /**
     * Hadoop's local rename with OVERWRITE deletes the target before renaming (AbstractFileSystem's default),
     * which leaves a moment with no manifest; POSIX rename(2) replaces atomically, so use it. The checksum side
     * file that Hadoop's LocalFileSystem keeps ({@code .manifest.json.crc}) goes first: a stale one would make
     * the new manifest fail to read, while a missing one only skips the extra check.
     */
    private static void replaceLocal(Path temp, Path target) throws IOException {
        java.nio.file.Path from = Paths.get(temp.toUri());
        java.nio.file.Path to = Paths.get(target.toUri());
        java.nio.file.Path fromCrc = from.resolveSibling("." + from.getFileName() + ".crc");
        java.nio.file.Path toCrc = to.resolveSibling("." + to.getFileName() + ".crc");
        java.nio.file.Files.deleteIfExists(toCrc);
        java.nio.file.Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (java.nio.file.Files.exists(fromCrc)) {
            java.nio.file.Files.move(fromCrc, toCrc, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static Configuration conf(FileSystem fs) {
        return fs.getConf() != null ? fs.getConf() : new Configuration();
    }

    static boolean isObjectStore(Path qualified) {
        String scheme = qualified.toUri().getScheme();
        return scheme != null && OBJECT_STORES.contains(scheme.toLowerCase(Locale.ROOT));
    }

    /** expectedBytes -1: size not listed. */
    private static void check(FileSystem fs, Path dir, String relativePath, long expectedBytes, String sha256,
            List<String> problems) throws IOException {
        Path file = ShardFiles.resolve(dir, relativePath);
        FileStatus status;
        try {
            status = fs.getFileStatus(file);
        } catch (FileNotFoundException e) {
            problems.add(relativePath + ": missing (" + file + ")");
            return;
        }
        if (!status.isFile()) {
            problems.add(relativePath + ": not a file (" + file + ")");
        } else if (expectedBytes >= 0 && status.getLen() != expectedBytes) {
            problems.add(relativePath + ": " + status.getLen() + " bytes, the manifest lists " + expectedBytes);
        } else {
            try {
                String actual = sha256(fs, file);
                if (!actual.equals(sha256)) {
                    problems.add(relativePath + ": sha256 " + actual + ", the manifest lists " + sha256);
                }
            } catch (ChecksumException e) {
                problems.add(relativePath + ": the file system's own checksum failed (" + e.getMessage() + ")");
            }
        }
    }

    private static void writeBytes(FileSystem fs, Path file, byte[] bytes, boolean overwrite) throws IOException {
        FSDataOutputStream out = fs.create(file, overwrite);
        try {
            out.write(bytes);
            out.close();
        } catch (IOException | RuntimeException | Error e) {
            ShardFiles.abandon(out, e);
            if (!overwrite) {
                ShardFiles.deleteQuietly(fs, file, e);
            }
            throw new IOException("could not write " + file + (overwrite ? "" : "; it was deleted") + ": " + e, e);
        }
    }
}
