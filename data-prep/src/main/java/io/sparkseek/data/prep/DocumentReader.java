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
        try (Documents docs = open(fs, src)) {
            docs.forEachRemaining(sink);
            return docs.counts();
        }
    }

    /**
     * The documents of {@code src}, read as they are consumed (a task never holds a whole file's documents);
     * {@link Documents#counts()} is complete once the iterator is exhausted.
     */
    public Documents open(FileSystem fs, SourceFile src) {
        Path path = new Path(src.uri());
        PrepCounters counts = new PrepCounters();
        try {
            RecordSource records = switch (formatOf(path, fs.getConf())) {
                case JSONL -> new JsonlRecords(open(fs, path), src);
                case PARQUET -> new ParquetRecords(fs, src, path);
                default -> switch (rules.textSplit()) {
                    case FILE -> new WholeFileRecords(open(fs, path), src);
                    case LINE -> new LineRecords(open(fs, path), src);
                    case PARAGRAPH -> new ParagraphRecords(open(fs, path), src);
                };
            };
            return new Documents(records, src, counts);
        } catch (IOException e) {
            throw unreadable(src, e);
        }
    }

    private static PrepInputException unreadable(SourceFile src, IOException e) {
        return new PrepInputException("cannot read input " + src.uri() + ": " + e
                + " (check that it exists, is readable, and is not being written)", e);
    }

    /** Kept documents of one file, pulled one at a time; close it when done (the iterator closes it at the end). */
    public final class Documents implements java.util.Iterator<Doc>, java.io.Closeable {
        private final RecordSource records;
        private final SourceFile src;
        private final PrepCounters counts;
        private Doc next;
        private boolean done;

        Documents(RecordSource records, SourceFile src, PrepCounters counts) {
            this.records = records;
            this.src = src;
            this.counts = counts;
        }

        /** Counts of what was read so far; complete once {@link #hasNext()} returned false. */
        public PrepCounters counts() {
            return counts;
        }

        @Override
        public boolean hasNext() {
            while (next == null && !done) {
                try {
                    Record r = records.next(counts);
                    if (r == null) {
                        done = true;
                        close();
                    } else {
                        next = toDoc(r);
                    }
                } catch (IOException e) {
                    close();
                    throw unreadable(src, e);
                } catch (RuntimeException e) {
                    close();
                    throw e;
                }
            }
            return next != null;
        }

        @Override
        public Doc next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            Doc d = next;
            next = null;
            return d;
        }

        /** Decodes, cleans and keys one record, or counts why not (null). */
        private Doc toDoc(Record r) {
            String text = r.text() != null ? r.text() : decode(r.bytes(), counts, src.uri() + ": " + r.what());
            if (text == null) {
                return null;
            }
            counts.add(PrepCounters.DOCUMENTS_READ, 1);
            String clean = TextCleaner.clean(text);
            if (clean.isEmpty()) {
                counts.add(PrepCounters.DROPPED_EMPTY, 1);
                return null;
            }
            return new Doc(Doc.key(src.index(), r.ordinal()), clean);
        }

        @Override
        public void close() {
            try {
                records.close();
            } catch (IOException e) {
                // reading is complete or has already failed; nothing is lost by a failed close of an input
            }
        }
    }

    /** One record of a file: its ordinal, and either raw bytes (decoded under the policy) or decoded text. */
    private record Record(long ordinal, byte[] bytes, String text, String what) {
    }

    /** A format's records in file order; null at the end. Records it skips itself (bad JSONL) it counts. */
    private interface RecordSource extends java.io.Closeable {
        Record next(PrepCounters counts) throws IOException;
    }

    private static final class WholeFileRecords implements RecordSource {
        private final InputStream in;
        private final SourceFile src;
        private boolean done;

        WholeFileRecords(InputStream in, SourceFile src) {
            this.in = in;
            this.src = src;
        }

        @Override
        public Record next(PrepCounters counts) throws IOException {
            if (done) {
                return null;
            }
            done = true;
            byte[] all = readAllBounded(in, src);
            return all.length == 0 ? null : new Record(0, all, null, "file");
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    private static final class LineRecords implements RecordSource {
        private final InputStream in;
        private final ByteLines lines;
        private long ordinal;

        LineRecords(InputStream in, SourceFile src) {
            this.in = in;
            this.lines = new ByteLines(in);
        }

        @Override
        public Record next(PrepCounters counts) throws IOException {
            byte[] line = lines.next();
            if (line == null) {
                return null;
            }
            long o = ordinal++;
            return new Record(o, line, null, "line " + (o + 1));
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    private static final class ParagraphRecords implements RecordSource {
        private final InputStream in;
        private final ByteLines lines;
        private final ByteArrayOutputStream para = new ByteArrayOutputStream();
        private long ordinal;
        private long lineNo;
        private long firstLine = 1;
        private boolean done;

        ParagraphRecords(InputStream in, SourceFile src) {
            this.in = in;
            this.lines = new ByteLines(in);
        }

        @Override
        public Record next(PrepCounters counts) throws IOException {
            while (!done) {
                byte[] line = lines.next();
                lineNo++;
                if (line == null || isBlank(line)) {
                    done = line == null;
                    long startedAt = firstLine;
                    firstLine = lineNo + 1;
                    if (para.size() > 0) {
                        byte[] bytes = para.toByteArray();
                        para.reset();
                        return new Record(ordinal++, bytes, null, "paragraph at line " + startedAt);
                    }
                } else {
                    if (para.size() > 0) {
                        para.write('\n');
                    }
                    para.write(line);
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    private final class JsonlRecords implements RecordSource {
        private final InputStream in;
        private final ByteLines lines;
        private final SourceFile src;
        private long ordinal = -1;

        JsonlRecords(InputStream in, SourceFile src) {
            this.in = in;
            this.lines = new ByteLines(in);
            this.src = src;
        }

        @Override
        public Record next(PrepCounters counts) throws IOException {
            for (byte[] line = lines.next(); line != null; line = lines.next()) {
                ordinal++;
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
                    return new Record(ordinal, null, text.textValue(), "line " + (ordinal + 1));
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    private final class ParquetRecords implements RecordSource {
        private final ParquetReader<Group> reader;
        private final SourceFile src;
        private final String field;
        private long ordinal = -1;

        ParquetRecords(FileSystem fs, SourceFile src, Path path) throws IOException {
            this.src = src;
            this.field = rules.textField();
            Configuration conf = new Configuration(fs.getConf());
            MessageType schema;
            try (ParquetFileReader footer = ParquetFileReader.open(HadoopInputFile.fromPath(path, conf))) {
                schema = footer.getFooter().getFileMetaData().getSchema();
            } catch (RuntimeException e) {
                throw new PrepInputException("cannot read Parquet input " + src.uri() + ": " + e.getMessage(), e);
            }
            if (!schema.containsField(field)) {
                throw new PrepInputException("Parquet input " + src.uri() + " has no column \"" + field
                        + "\" (its columns: " + schema.getFields().stream().map(Type::getName).toList()
                        + "); choose one with --text-field");
            }
            Type type = schema.getType(field);
            if (!type.isPrimitive() || type.asPrimitiveType().getPrimitiveTypeName()
                    != PrimitiveType.PrimitiveTypeName.BINARY || type.isRepetition(Type.Repetition.REPEATED)) {
                throw new PrepInputException("Parquet input " + src.uri() + ": column \"" + field + "\" is " + type
                        + ", not a string column");
            }
            MessageType projection = Types.buildMessage().addField(type).named(schema.getName());
            conf.set(ReadSupport.PARQUET_READ_SCHEMA, projection.toString());
            this.reader = ParquetReader.builder(new GroupReadSupport(), path).withConf(conf).build();
        }

        @Override
        public Record next(PrepCounters counts) throws IOException {
            for (Group row = reader.read(); row != null; row = reader.read()) {
                ordinal++;
                if (row.getFieldRepetitionCount(field) == 0) {
                    badRecord(counts, src.uri() + ": row " + ordinal + ": \"" + field + "\" is null");
                    continue;
                }
                return new Record(ordinal, row.getBinary(field, 0).getBytes(), null, "row " + ordinal);
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            reader.close();
        }
    }

    private InputStream open(FileSystem fs, Path path) throws IOException {
        InputStream raw = fs.open(path);
        CompressionCodec codec = new CompressionCodecFactory(fs.getConf()).getCodec(path);
        return new BufferedInputStream(codec == null ? raw : codec.createInputStream(raw), 1 << 16);
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
