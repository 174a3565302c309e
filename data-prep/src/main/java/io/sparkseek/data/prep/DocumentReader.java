package io.sparkseek.data.prep;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Turns one input file into cleaned documents, applying the invalid-UTF-8 and bad-record policies and counting
 * every drop. Formats (chosen by {@link ReadRules#format()}, or by extension when AUTO, after stripping a
 * compression suffix such as {@code .gz} that Hadoop's codecs decompress):
 * <ul>
 *   <li>JSONL ({@code .jsonl}, {@code .ndjson}, {@code .json}): one JSON object per line, the text under
 *       {@link ReadRules#textField()}; blank lines are ignored; ordinal = line number − 1;</li>
 *   <li>Parquet ({@code .parquet}): the string column {@link ReadRules#textField()}; ordinal = row number;</li>
 *   <li>plain text (anything else): documents end per {@link PrepOptions.TextSplit}: the whole file, each line,
 *       or paragraphs separated by blank lines; ordinal = document number in the file.</li>
 * </ul>
 * Documents empty after {@link TextCleaner} are dropped and counted. A file that cannot be opened or read is an
 * error naming it under every policy.
 */
public final class DocumentReader {
    /** Largest plain-text file read as one document (a Java array bound, with margin). */
    static final long MAX_WHOLE_FILE_BYTES = Integer.MAX_VALUE - 64;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ReadRules rules;

    public DocumentReader(ReadRules rules) {
        this.rules = rules;
    }

    /** The format a file is read with. */
    public PrepOptions.InputFormat formatOf(Path path, Configuration conf) {
        if (rules.format() != PrepOptions.InputFormat.AUTO) {
            return rules.format();
        }
        String name = path.getName().toLowerCase(Locale.ROOT);
        CompressionCodec codec = new CompressionCodecFactory(conf).getCodec(path);
        if (codec != null && name.endsWith(codec.getDefaultExtension())) {
            name = name.substring(0, name.length() - codec.getDefaultExtension().length());
        }
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".json")) {
            return PrepOptions.InputFormat.JSONL;
        }
        if (name.endsWith(".parquet")) {
            return PrepOptions.InputFormat.PARQUET;
        }
        return PrepOptions.InputFormat.TEXT;
    }

    /** Reads {@code src}, passing each kept document to {@code sink}; returns this file's counts. */
    public PrepCounters read(FileSystem fs, SourceFile src, Consumer<Doc> sink) {
        Path path = new Path(src.uri());
        PrepCounters counts = new PrepCounters();
        try {
            switch (formatOf(path, fs.getConf())) {
                case JSONL -> readJsonl(fs, src, path, sink, counts);
                case PARQUET -> readParquet(fs, src, path, sink, counts);
                default -> readText(fs, src, path, sink, counts);
            }
        } catch (IOException e) {
            throw new PrepInputException("cannot read input " + src.uri() + ": " + e
                    + " (check that it exists, is readable, and is not being written)", e);
        }
        return counts;
    }

    private InputStream open(FileSystem fs, Path path) throws IOException {
        InputStream raw = fs.open(path);
        CompressionCodec codec = new CompressionCodecFactory(fs.getConf()).getCodec(path);
        return new BufferedInputStream(codec == null ? raw : codec.createInputStream(raw), 1 << 16);
    }

    private void readText(FileSystem fs, SourceFile src, Path path, Consumer<Doc> sink, PrepCounters counts)
            throws IOException {
        try (InputStream in = open(fs, path)) {
            switch (rules.textSplit()) {
                case FILE -> {
                    byte[] all = readAllBounded(in, src);
                    if (all.length > 0) {
                        emit(src, 0, all, sink, counts, "file");
                    }
                }
                case LINE -> {
                    ByteLines lines = new ByteLines(in);
                    long ordinal = 0;
                    for (byte[] line = lines.next(); line != null; line = lines.next(), ordinal++) {
                        emit(src, ordinal, line, sink, counts, "line " + (ordinal + 1));
                    }
                }
                case PARAGRAPH -> {
                    ByteLines lines = new ByteLines(in);
                    ByteArrayOutputStream para = new ByteArrayOutputStream();
                    long ordinal = 0;
                    long lineNo = 0;
                    long firstLine = 1;
                    for (byte[] line = lines.next(); ; line = lines.next()) {
                        lineNo++;
                        if (line == null || isBlank(line)) {
                            if (para.size() > 0) {
                                emit(src, ordinal++, para.toByteArray(), sink, counts, "paragraph at line " + firstLine);
                                para.reset();
                            }
                            if (line == null) {
                                break;
                            }
                            firstLine = lineNo + 1;
                        } else {
                            if (para.size() > 0) {
                                para.write('\n');
                            }
                            para.write(line);
                        }
                    }
                }
                default -> throw new IllegalStateException(rules.textSplit().toString());
            }
        }
    }

    private void readJsonl(FileSystem fs, SourceFile src, Path path, Consumer<Doc> sink, PrepCounters counts)
            throws IOException {
        try (InputStream in = open(fs, path)) {
            ByteLines lines = new ByteLines(in);
            long ordinal = 0;
            for (byte[] line = lines.next(); line != null; line = lines.next(), ordinal++) {
                if (isBlank(line)) {
                    continue;
                }
                String where = src.uri() + ":" + (ordinal + 1);
                String json = decode(line, counts, where);
                if (json == null) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(json);
                } catch (JsonProcessingException e) {
                    badRecord(counts, where + ": not valid JSON (" + e.getOriginalMessage() + ")");
                    continue;
                }
                JsonNode text = node == null || !node.isObject() ? null : node.get(rules.textField());
                if (node == null || !node.isObject()) {
                    badRecord(counts, where + ": a JSONL line must be a JSON object");
                } else if (text == null || text.isNull()) {
                    badRecord(counts, where + ": no \"" + rules.textField() + "\" field (choose the field with "
                            + "--text-field)");
                } else if (!text.isTextual()) {
                    badRecord(counts, where + ": \"" + rules.textField() + "\" is a " + text.getNodeType()
                            .toString().toLowerCase(Locale.ROOT) + ", not a string");
                } else {
                    keep(src, ordinal, text.textValue(), sink, counts);
                }
            }
        }
    }

    private void readParquet(FileSystem fs, SourceFile src, Path path, Consumer<Doc> sink, PrepCounters counts)
            throws IOException {
        Configuration conf = new Configuration(fs.getConf());
        MessageType schema;
        try (ParquetFileReader footer = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf))) {
            schema = footer.getFooter().getFileMetaData().getSchema();
        } catch (RuntimeException e) {
            throw new PrepInputException("cannot read Parquet input " + src.uri() + ": " + e.getMessage(), e);
        }
        String field = rules.textField();
        if (!schema.containsField(field)) {
            throw new PrepInputException("Parquet input " + src.uri() + " has no column \"" + field + "\" (its columns: "
                    + schema.getFields().stream().map(Type::getName).toList() + "); choose one with --text-field");
        }
        Type type = schema.getType(field);
        if (!type.isPrimitive() || type.asPrimitiveType().getPrimitiveTypeName()
                != PrimitiveType.PrimitiveTypeName.BINARY || type.isRepetition(Type.Repetition.REPEATED)) {
            throw new PrepInputException("Parquet input " + src.uri() + ": column \"" + field + "\" is " + type
                    + ", not a string column");
        }
        MessageType projection = Types.buildMessage().addField(type).named(schema.getName());
        conf.set(ReadSupport.PARQUET_READ_SCHEMA, projection.toString());
        try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), path).withConf(conf).build()) {
            long ordinal = 0;
            for (Group row = reader.read(); row != null; row = reader.read(), ordinal++) {
                String where = src.uri() + ": row " + ordinal;
                if (row.getFieldRepetitionCount(field) == 0) {
                    badRecord(counts, where + ": \"" + field + "\" is null");
                    continue;
                }
                emit(src, ordinal, row.getBinary(field, 0).getBytes(), sink, counts, "row " + ordinal);
            }
        }
    }

    /** Decodes, cleans and passes on one record's bytes, or counts why not. */
    private void emit(SourceFile src, long ordinal, byte[] bytes, Consumer<Doc> sink, PrepCounters counts,
                      String what) {
        String text = decode(bytes, counts, src.uri() + ": " + what);
        if (text != null) {
            keep(src, ordinal, text, sink, counts);
        }
    }

    private void keep(SourceFile src, long ordinal, String raw, Consumer<Doc> sink, PrepCounters counts) {
        counts.add(PrepCounters.DOCUMENTS_READ, 1);
        String text = TextCleaner.clean(raw);
        if (text.isEmpty()) {
            counts.add(PrepCounters.DROPPED_EMPTY, 1);
            return;
        }
        sink.accept(new Doc(Doc.key(src.index(), ordinal), text));
    }

    /** Strict UTF-8 decoding under the policy; null when the record is skipped. */
    private String decode(byte[] bytes, PrepCounters counts, String where) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            switch (rules.invalidUtf8()) {
                case REPLACE -> {
                    counts.add(PrepCounters.REPLACED_INVALID_UTF8, 1);
                    return new String(bytes, StandardCharsets.UTF_8);
                }
                case SKIP -> {
                    counts.add(PrepCounters.DOCUMENTS_READ, 1);
                    counts.add(PrepCounters.DROPPED_INVALID_UTF8, 1);
                    return null;
                }
                default -> throw new PrepInputException(where + ": not valid UTF-8 (first bad byte at offset "
                        + firstBadByte(bytes) + "); use --invalid-utf8 replace or skip to go on");
            }
        }
    }

    private void badRecord(PrepCounters counts, String message) {
        if (rules.badRecords() == PrepOptions.BadRecords.FAIL) {
            throw new PrepInputException(message + "; use --bad-records skip to skip such records");
        }
        counts.add(PrepCounters.DOCUMENTS_READ, 1);
        counts.add(PrepCounters.SKIPPED_BAD_RECORDS, 1);
    }

    private static int firstBadByte(byte[] bytes) {
        var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        var out = java.nio.CharBuffer.allocate(bytes.length + 1);
        var result = decoder.decode(in, out, true);
        return result.isError() ? in.position() : -1;
    }

    private static boolean isBlank(byte[] line) {
        for (byte b : line) {
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    private static byte[] readAllBounded(InputStream in, SourceFile src) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        long total = 0;
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
            total += n;
            if (total > MAX_WHOLE_FILE_BYTES) {
                throw new PrepInputException(src.uri() + " is larger than 2 GiB, too large to be one document; use "
                        + "--text-split line or paragraph");
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /** Lines of a byte stream without their {@code \n} (and a {@code \r} before it); null at the end. */
    static final class ByteLines {
        private final InputStream in;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);

        ByteLines(InputStream in) {
            this.in = in;
        }

        byte[] next() throws IOException {
            line.reset();
            int b = in.read();
            if (b < 0) {
                return null;
            }
            while (b >= 0 && b != '\n') {
                line.write(b);
                b = in.read();
            }
            byte[] bytes = line.toByteArray();
            int n = bytes.length;
            if (n > 0 && bytes[n - 1] == '\r') {
                return java.util.Arrays.copyOf(bytes, n - 1);
            }
            return bytes;
        }
    }
}
