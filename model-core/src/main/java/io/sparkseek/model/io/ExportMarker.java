package io.sparkseek.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code _SUCCESS} marker that commits an HF export: written last, it lists every file of the export with its
 * size and SHA-256 ({@code {"format": "sparkseek-export/1", "files": [{"name", "bytes", "sha256"}], ...}}).
 * A directory whose safetensors files say they belong to an export ({@link HfExport#PRODUCER}) but that has no
 * marker was interrupted and is refused; a foreign HF directory (no such metadata) needs no marker.
 */
public final class ExportMarker {
    public static final String NAME = "_SUCCESS";
    public static final String FORMAT = "sparkseek-export/1";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ExportMarker() {
    }

    /** One committed file. */
    public record FileEntry(String name, long bytes, String sha256) {
    }

    /** The marker's bytes: {@code info} entries (dtype, source, ...) first, then the file list. */
    public static byte[] toJson(List<FileEntry> files, Map<String, Object> info) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.putAll(info);
        List<Map<String, Object>> list = new ArrayList<>();
        for (FileEntry f : files) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", f.name());
            e.put("bytes", f.bytes());
            e.put("sha256", f.sha256());
            list.add(e);
        }
        m.put("files", list);
        return JSON.writeValueAsBytes(m);
    }

    /** Size and SHA-256 of each local file {@code dir/name}, in the given order. */
    public static List<FileEntry> describe(Path dir, List<String> names) throws IOException {
        List<FileEntry> out = new ArrayList<>();
        for (String name : names) {
            Path p = dir.resolve(name);
            MessageDigest md = sha256();
            try (InputStream in = Files.newInputStream(p)) {
                byte[] buf = new byte[1 << 16];
                for (int r; (r = in.read(buf)) > 0; ) {
                    md.update(buf, 0, r);
                }
            }
            out.add(new FileEntry(name, Files.size(p), HexFormat.of().formatHex(md.digest())));
        }
        return out;
    }

    /** A SHA-256 digest (always present in the JDK). */
    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** Parses a marker; {@code where} names it in errors. */
    public static List<FileEntry> parse(byte[] json, String where) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new IOException(where + ": not valid JSON (" + e.getMessage() + "); the export marker is damaged,"
                    + " re-run the export", e);
        }
        if (root == null || !FORMAT.equals(root.path("format").asText()) || !root.path("files").isArray()) {
            throw new IOException(where + ": not a " + FORMAT + " marker (no \"format\": \"" + FORMAT
                    + "\" or no \"files\" list); re-run the export");
        }
        List<FileEntry> out = new ArrayList<>();
        for (JsonNode f : root.get("files")) {
            if (!f.path("name").isTextual() || !f.path("bytes").canConvertToLong() || !f.path("sha256").isTextual()) {
                throw new IOException(where + ": file entry " + f + " needs name, bytes and sha256");
            }
            out.add(new FileEntry(f.get("name").asText(), f.get("bytes").asLong(), f.get("sha256").asText()));
        }
        return out;
    }

    /**
     * Refuses a local directory that holds an interrupted export, or a committed one whose files are missing or
     * have other sizes than its marker lists. Directories that are not SparkSeek exports pass unchanged.
     */
    public static void requireComplete(Path dir) throws IOException {
        Path marker = dir.resolve(NAME);
        if (Files.isRegularFile(marker)) {
            for (FileEntry f : parse(Files.readAllBytes(marker), marker.toString())) {
                Path p = dir.resolve(f.name());
                if (!Files.isRegularFile(p)) {
                    throw new IOException(dir + ": the export lists " + f.name() + " but it is missing;"
                            + " re-run the export");
                }
                long size = Files.size(p);
                if (size != f.bytes()) {
                    throw new IOException(dir + ": " + f.name() + " is " + size + " bytes but the export wrote "
                            + f.bytes() + "; the file was changed or truncated, re-run the export");
                }
            }
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.safetensors")) {
            for (Path p : ds) {
                try (SafetensorsFile f = Safetensors.open(p)) {
                    if (HfExport.PRODUCER.equals(f.metadata().get(HfExport.PRODUCER_KEY))) {
                        throw new IOException(dir + " is an incomplete export: it has no " + NAME + " marker (the"
                                + " export was interrupted or is still running); re-run `sparkseek export` to the"
                                + " same destination");
                    }
                }
            }
        }
    }
}
